"""Loaded by every Python process started with this directory on PYTHONPATH (the reviewer and
anything it runs, such as mat2): any socket operation is logged and refused. Audit hooks cannot
be removed once added, so the code under test cannot undo this."""

import os
import sys

_LOG = os.environ.get("SEALDROP_NETBLOCK_LOG", "")


def _note(line: str) -> None:
    if _LOG:
        with open(_LOG, "a", encoding="utf-8") as log:
            log.write(line + "\n")


_AF_UNIX = 1


def _refuse_sockets(event: str, args: tuple) -> None:
    # An event loop wakes itself through socket.socketpair(): an AF_UNIX pair that never
    # connects or binds. Creating one is allowed; connecting, binding, sending to an address
    # or resolving a name, from any socket, is not.
    if event == "socket.__new__" and len(args) > 1 and args[1] == _AF_UNIX:
        return
    if event.startswith("socket."):
        _note(f"BLOCKED {event} in {_command_line()}")
        raise PermissionError(f"air-gap test: {event} is not allowed")


def _command_line() -> str:
    try:  # sys.argv is not set yet while site runs
        with open("/proc/self/cmdline", "rb") as cmdline:
            return cmdline.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return "?"


_note(f"armed {_command_line()}")
sys.addaudithook(_refuse_sockets)
