import sys

from . import javascript

sys.stdout.write(javascript())
