"""A worker gives large buffers back to the system when it frees them (intake/memory.py)."""

from __future__ import annotations

import ctypes
import subprocess
import sys

import pytest

# In a fresh process: a 16 MiB buffer freed (which, by glibc's default, raises the threshold
# for mapping buffers on their own to 16 MiB), then one of 8 MiB held: far larger than any
# free piece the heap has after start-up, which malloc would use before mapping anything.
# Prints whether it is mapped on its own (mallinfo2's count of such buffers, hblks).
SCRIPT = """
import ctypes, sys
from intake.memory import give_back_large_buffers
if sys.argv[1] == "fixed":
    give_back_large_buffers()
class Info(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in (
        "arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks",
        "fordblks", "keepcost")]
mallinfo2 = ctypes.CDLL(None).mallinfo2
mallinfo2.restype = Info
freed = bytearray(16 << 20)
del freed
before = mallinfo2().hblks
held = bytearray(8 << 20)
print(mallinfo2().hblks - before)
"""


def _mapped(mode: str) -> int:
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT, mode], capture_output=True, text=True, check=True
    )
    return int(result.stdout)


@pytest.mark.skipif(
    not hasattr(ctypes.CDLL(None), "mallinfo2"), reason="glibc's malloc only (2.33 or later)"
)
def test_a_large_buffer_is_mapped_on_its_own_even_after_a_larger_one_was_freed() -> None:
    assert _mapped("default") == 0  # glibc kept it in the heap: the test can see the difference
    assert _mapped("fixed") == 1


# In a fresh process: 8 threads, each allocating while the others hold theirs; prints how
# many arenas glibc's malloc made (malloc_info lists one <heap> each).
ARENAS_SCRIPT = """
import ctypes, os, sys, tempfile, threading
from intake.memory import give_back_large_buffers
if sys.argv[1] == "fixed":
    give_back_large_buffers()
barrier = threading.Barrier(8)
def work():
    held = [bytearray(100_000) for _ in range(4)]
    barrier.wait()
threads = [threading.Thread(target=work) for _ in range(8)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
libc = ctypes.CDLL(None)
libc.fopen.restype = ctypes.c_void_p
libc.fopen.argtypes = [ctypes.c_char_p, ctypes.c_char_p]
libc.malloc_info.argtypes = [ctypes.c_int, ctypes.c_void_p]
libc.fclose.argtypes = [ctypes.c_void_p]
with tempfile.TemporaryDirectory() as directory:
    path = os.path.join(directory, "info.xml")
    stream = libc.fopen(path.encode(), b"w")
    libc.malloc_info(0, stream)
    libc.fclose(stream)
    print(open(path).read().count("<heap nr="))
"""


@pytest.mark.skipif(not hasattr(ctypes.CDLL(None), "malloc_info"), reason="glibc's malloc only")
def test_a_worker_keeps_two_arenas_however_many_threads_allocate() -> None:
    def arenas(mode: str) -> int:
        result = subprocess.run(
            [sys.executable, "-c", ARENAS_SCRIPT, mode], capture_output=True, text=True, check=True
        )
        return int(result.stdout)

    assert arenas("default") > 2  # glibc's own limit is far higher: the test sees the difference
    assert arenas("fixed") <= 2
