"""The restart path (issue 17, G6): gunicorn's socket belongs to systemd
(deploy/systemd/sealdrop-intake.socket), as the stack reproduces, so while gunicorn restarts a
request waits in the socket's queue and is answered afterwards, and nginx never finds the
socket missing (which it logged at crit with the request line: mailbox ids, ?lang=)."""

from __future__ import annotations

import select
import threading
from pathlib import Path

from tests.support.stack import circuit_id, running_stack

MAILBOX = "restartcanaryabcdefghijklm"


def test_a_request_during_a_restart_is_answered_and_leaves_no_trace(tmp_path: Path) -> None:
    with running_stack(tmp_path) as stack:
        assert stack.app is not None
        statuses: list[int] = []
        path = f"/api/v1/mailboxes/{MAILBOX}/replies?lang=ru"

        def check() -> None:
            statuses.append(
                stack.client(circuit_id(0x7E57), timeout=60).request("GET", path).status
            )

        def while_down() -> bool:
            assert stack.socket_path.is_socket()  # gunicorn is gone, its socket is not
            asking = threading.Thread(target=check)
            asking.start()
            # nginx has connected: the request waits in the socket's queue, unanswered.
            readable, _, _ = select.select([stack.app.listener], [], [], 30)  # type: ignore[union-attr]
            return asking if readable else None

        asking = stack.restart_app(while_down)
        assert isinstance(asking, threading.Thread), "nginx never reached the socket"
        asking.join(60)
        assert statuses == [200]
        written = b"".join(p.read_bytes() for p in stack.written_by_nginx())
        written += stack.gunicorn_log.read_bytes()
        for needle in (MAILBOX.encode(), b"lang=ru", b"dead:beef"):
            assert needle not in written
