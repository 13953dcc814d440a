"""gunicorn settings for sealdrop's intake server behind a Tor onion service.

Installed as /etc/sealdrop/gunicorn.conf.py (docs/ADMIN.md); `sealdrop-intake check` reads it.
The app takes its settings from SEALDROP_* variables (/etc/sealdrop/sealdrop.env).
"""

import logging
import os

from gunicorn.http import wsgi as _gunicorn_wsgi

wsgi_app = "intake:create_app()"

# Only nginx connects (deploy/nginx/sites-available/sealdrop), through a unix socket: no TCP
# port at all, so nothing but the front server, with its timeouts and per-circuit limits,
# reaches the app. Under systemd the socket is sealdrop-intake.socket's (gunicorn takes it
# over through LISTEN_FDS and ignores `bind`), open to the sealdrop group, which nginx's user
# joins (docs/ADMIN.md); it outlives every restart. Run by hand, gunicorn binds it itself.
bind = ["unix:/run/sealdrop/gunicorn.sock"]

# Uploads over Tor are slow (tens of KiB/s) and a submission can take many minutes; each one
# holds a thread while its body streams in, so threads, not processes, carry the load. With
# gthread, `timeout` only restarts a worker whose main loop is stuck, not a slow request.
worker_class = "gthread"
workers = 2
threads = 32
# The app lets body-streaming requests (uploads) hold only a share of these threads
# (SEALDROP_STREAMING_THREADS_PERCENT), so pages and reply checks always find one.
os.environ.setdefault("SEALDROP_WORKER_THREADS", str(threads))
timeout = 120
graceful_timeout = 120
keepalive = 30
# Request headers are small; bodies are streamed by the app within its own limits.
limit_request_line = 4094
limit_request_fields = 50
limit_request_field_size = 8190
forwarded_allow_ips = ""
proxy_allow_ips = ""

# No access log, ever (invariant 3). Errors go to stderr, i.e. the journal, at "warning": the
# levels below log request lines.
accesslog = None
errorlog = "-"
loglevel = "warning"
capture_output = False
# gunicorn >= 25 opens a control socket under $HOME by default; the service has no home.
control_socket_disable = True
proc_name = "sealdrop-intake"
umask = 0o077


def when_ready(server):  # type: ignore[no-untyped-def]
    """A socket gunicorn made itself is made under umask 0o077; let the group (nginx's user
    is in it) connect. systemd's socket already has its mode (and /run is read-only here)."""
    import os
    import stat

    for listener in server.LISTENERS:
        address = listener.cfg_addr
        if isinstance(address, str) and stat.S_IMODE(os.stat(address).st_mode) != 0o660:
            os.chmod(address, 0o660)


class _NoRequestDetails(logging.Filter):
    """gunicorn names the client address and the request URI when it refuses a malformed
    request or a request fails; keep the fact, drop the details (and the traceback, whose
    exception messages may quote the request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = str(record.msg)
        if message.startswith("Invalid request from"):
            record.msg, record.args = "refused a malformed HTTP request", ()
        elif message.startswith("Error handling request"):
            kind = record.exc_info[0].__name__ if record.exc_info and record.exc_info[0] else "?"
            record.msg, record.args = "error handling a request (%s)", (kind,)
            record.exc_info = record.exc_text = None
        return True


logging.getLogger("gunicorn.error").addFilter(_NoRequestDetails())

# gunicorn writes "Server: gunicorn" itself, outside the app's control, and has no setting to
# turn it off. Drop that line from its default headers; tests/deploy checks that the header
# stays gone, so a gunicorn upgrade that changes this fails the tests instead of leaking.
_default_headers = _gunicorn_wsgi.Response.default_headers


def _default_headers_without_server(self):  # type: ignore[no-untyped-def]
    return [line for line in _default_headers(self) if not line.lower().startswith("server:")]


_gunicorn_wsgi.Response.default_headers = _default_headers_without_server
