"""The production stack on 127.0.0.1, from the shipped configs: nginx (deploy/nginx/) with a
PROXY-protocol listener for tor and a plain one for a local browser, gunicorn
(deploy/gunicorn.conf.py) on a unix socket, a throwaway data dir and demo reviewer key.

    python -m tests.support.stack          # `make stack`: prints its URLs, Ctrl-C stops it

    with running_stack(tmp_path) as stack:  # in tests
        CircuitClient(stack.proxy_port, circuit="fc00:dead:beef:4dad::1:2").request("GET", "/")

gunicorn's socket is made here and handed to gunicorn as systemd's socket activation does
(deploy/systemd/sealdrop-intake.socket): it outlives gunicorn, so ``stack.restart_app()`` is the
restart path of production.

nginx runs unprivileged here, so the main file (Debian's /etc/nginx/nginx.conf in production)
is written by this module with the same includes and an http-level access log, which the
site must switch off; every other nginx file is the shipped one with only its paths and
ports replaced. After a run, everything nginx could have written (temp directories, logs) is
under ``stack.nginx_dir``.
"""

from __future__ import annotations

import contextlib
import http.client
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from tests.deploy.helpers import (
    DEPLOY,
    GUNICORN_CONF,
    REPO,
    Client,
    Deployment,
    free_port,
    make_deployment,
)

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
NGINX_MODULES = "/usr/lib/nginx/modules"
NGINX_DEPLOY = DEPLOY / "nginx"
SITE = NGINX_DEPLOY / "sites-available" / "sealdrop"
SHIPPED_PROXY_PORT = 8030
SHIPPED_PLAIN_PORT = 8080
SHIPPED_SOCKET = "/run/sealdrop/gunicorn.sock"
DEMO_PASSPHRASE = "demo"  # the demo key is deliberately throwaway
START_DEADLINE_S = 30
STOP_DEADLINE_S = 30
# nginx's temp directories: with the shipped site none of them may ever hold a file.
TEMP_DIRS = ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")

MAIN_CONF = """\
# Written by tests/support/stack.py: Debian's /etc/nginx/nginx.conf, for an unprivileged run.
{user}worker_processes 2;
worker_rlimit_nofile 16384;
pid {root}/nginx.pid;
# Debian's nginx.conf includes /etc/nginx/modules-enabled/*.conf, whose paths are relative to
# /usr/share/nginx; the headers-more module (Debian's libnginx-mod-http-headers-more-filter).
load_module {modules}/ngx_http_headers_more_filter_module.so;
error_log {root}/logs/error.log;
daemon off;

events {{
    worker_connections 4096;
}}

http {{
    sendfile on;
    tcp_nopush on;
    types_hash_max_size 2048;
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    # As in Debian's nginx.conf: the site must switch this off.
    access_log {root}/logs/access.log;
    gzip on;
{temp_paths}
    include {root}/conf.d/*.conf;
    include {root}/sites-enabled/*;
}}
"""


def circuit_id(n: int) -> str:
    """A circuit id as tor writes it in the PROXY line (the circuit's number in 32 bits)."""
    return f"fc00:dead:beef:4dad::{n >> 16 & 0xFFFF:x}:{n & 0xFFFF:x}"


def proxy_line(circuit: str, source_port: int = 4242) -> bytes:
    return f"PROXY TCP6 {circuit} ::1 {source_port} 80\r\n".encode()


class _CircuitConnection(http.client.HTTPConnection):
    """An HTTP connection that first writes the PROXY line tor would write for ``circuit``."""

    def __init__(self, host: str, port: int, circuit: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self._circuit = circuit

    def connect(self) -> None:
        super().connect()
        assert self.sock is not None
        self.sock.sendall(proxy_line(self._circuit, self.sock.getsockname()[1]))


@dataclass
class CircuitClient(Client):
    """A client arriving as if through tor on the given circuit (None: the plain listener)."""

    circuit: str | None = None

    def connection(self) -> http.client.HTTPConnection:
        if self.circuit is None:
            return super().connection()
        return _CircuitConnection(self.host, self.port, self.circuit, self.timeout)


@dataclass
class Stack:
    root: Path
    deployment: Deployment
    proxy_port: int
    plain_port: int
    socket_path: Path
    nginx_dir: Path
    gunicorn_log: Path
    app: _App | None = None

    def restart_app(self, while_down: Callable[[], object] = lambda: None) -> object:
        """Stops gunicorn, runs ``while_down`` (returning what it returns), starts it again
        on the same socket, as `systemctl restart sealdrop-intake` does."""
        assert self.app is not None
        self.app.stop()
        try:
            return while_down()
        finally:
            self.app.start()

    def client(self, circuit: str | None = None, timeout: float = 60) -> CircuitClient:
        port = self.plain_port if circuit is None else self.proxy_port
        return CircuitClient("127.0.0.1", port, timeout=timeout, circuit=circuit)

    def written_by_nginx(self) -> list[Path]:
        """Every file nginx could have written: its temp directories and logs."""
        roots = [self.nginx_dir / "temp", self.nginx_dir / "logs"]
        return sorted(p for root in roots for p in root.rglob("*") if p.is_file())

    def temp_files(self) -> list[Path]:
        return sorted(p for p in (self.nginx_dir / "temp").rglob("*") if p.is_file())


def _substitute(text: str, replacements: list[tuple[str, str]], name: str) -> str:
    for pattern, replacement in replacements:
        text, count = re.subn(pattern, replacement, text, flags=re.MULTILINE)
        assert count == 1, f"{name} should have exactly one line matching {pattern}"
    return text


def write_nginx_config(root: Path, proxy_port: int, plain_port: int, socket_path: Path) -> Path:
    """The shipped nginx files under ``root``, with this run's ports, socket and log path."""
    for sub in ("conf.d", "snippets", "sites-enabled", "logs", *(f"temp/{t}" for t in TEMP_DIRS)):
        (root / sub).mkdir(parents=True, exist_ok=True)
    for source in (NGINX_DEPLOY / "conf.d").glob("*.conf"):
        shutil.copy(source, root / "conf.d" / source.name)
    for source in (NGINX_DEPLOY / "snippets").glob("*.conf"):
        shutil.copy(source, root / "snippets" / source.name)
    site = _substitute(
        SITE.read_text(),
        [
            (rf"listen 127\.0\.0\.1:{SHIPPED_PROXY_PORT} ", f"listen 127.0.0.1:{proxy_port} "),
            (rf"listen 127\.0\.0\.1:{SHIPPED_PLAIN_PORT} ", f"listen 127.0.0.1:{plain_port} "),
            (re.escape(f"unix:{SHIPPED_SOCKET};"), f"unix:{socket_path};"),
            (r"error_log /var/log/nginx/", f"error_log {root}/logs/"),
        ],
        str(SITE),
    )
    # The snippets are named relative to nginx's prefix, which is `root` here.
    (root / "sites-enabled" / "sealdrop").write_text(site)
    temp_paths = "\n".join(
        f"    {kind}_temp_path {root}/temp/{kind};"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    main = root / "nginx.conf"
    # Run as root (a test container), nginx's workers would be `nobody`: keep this user.
    user = f"user {pwd.getpwuid(os.geteuid()).pw_name};\n" if os.geteuid() == 0 else ""
    main.write_text(
        MAIN_CONF.format(root=root, temp_paths=temp_paths, user=user, modules=NGINX_MODULES)
    )
    return main


class _App:
    """gunicorn, started as systemd starts a socket-activated service: the listening socket
    as file descriptor 3, LISTEN_FDS=1 and LISTEN_PID its own pid."""

    def __init__(
        self, command: list[str], env: dict[str, str], log: Path, socket_path: Path
    ) -> None:
        self.command, self.env, self.log, self.socket_path = command, env, log, socket_path
        self.process: subprocess.Popen[bytes] | None = None
        self.open()

    def open(self) -> None:
        """The socket, as systemd makes it when the socket unit starts."""
        self.socket_path.unlink(missing_ok=True)
        self.listener = socket.socket(socket.AF_UNIX)
        self.listener.bind(str(self.socket_path))
        os.chmod(self.socket_path, 0o660)
        self.listener.listen(1024)

    def start(self) -> subprocess.Popen[bytes]:
        fd = self.listener.fileno()
        script = f'export LISTEN_PID=$$ LISTEN_FDS=1; exec "$@" 3<&{fd}'
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(
                ["/bin/bash", "-c", script, "bash", *self.command],
                env=self.env,
                cwd=REPO,
                stdout=log,
                stderr=subprocess.STDOUT,
                pass_fds=(fd,),
            )
        # Ready when its workers answer (the socket itself accepts from the start).
        _wait(self._answers, [self.process], "gunicorn")
        return self.process

    def _answers(self) -> bool:
        with socket.socket(socket.AF_UNIX) as sock:
            sock.settimeout(5)
            sock.connect(str(self.socket_path))
            sock.sendall(b"GET /healthz HTTP/1.0\r\n\r\n")
            return sock.recv(12).startswith(b"HTTP/1.")

    def stop(self) -> None:
        if self.process is not None:
            _stop(self.process)

    def close(self) -> None:
        """gunicorn and its socket gone (nginx is refused): a stopped socket unit."""
        self.stop()
        self.listener.close()


def _wait(check: object, processes: list[subprocess.Popen[bytes]], what: str) -> None:
    deadline = time.monotonic() + START_DEADLINE_S
    while True:
        for process in processes:
            if process.poll() is not None:
                raise RuntimeError(f"{what}: a process exited with status {process.returncode}")
        with contextlib.suppress(OSError):
            if check():  # type: ignore[operator]
                return
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} did not start within {START_DEADLINE_S} s")
        time.sleep(0.05)  # polling a starting server, bounded by the deadline


def _accepts_tcp(port: int) -> bool:
    with socket.create_connection(("127.0.0.1", port), 1):
        return True


def _stop(process: subprocess.Popen[bytes], sig: int = signal.SIGTERM) -> None:
    if process.poll() is None:
        process.send_signal(sig)
    try:
        process.wait(timeout=STOP_DEADLINE_S)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@contextlib.contextmanager
def running_stack(
    root: Path,
    env: Mapping[str, str] | None = None,
    proxy_port: int | None = None,
    plain_port: int | None = None,
) -> Iterator[Stack]:
    """nginx and gunicorn from the shipped configs, on loopback; ``env``: extra SEALDROP_*."""
    root.mkdir(parents=True, exist_ok=True)
    deployment = make_deployment(root / "site")
    deployment.env.update(env or {})
    run_dir = root / "run"
    run_dir.mkdir(mode=0o750, exist_ok=True)
    socket_path = run_dir / "gunicorn.sock"
    proxy_port = proxy_port or free_port()
    plain_port = plain_port or free_port()
    nginx_dir = root / "nginx"
    main = write_nginx_config(nginx_dir, proxy_port, plain_port, socket_path)
    gunicorn_log = root / "gunicorn.log"
    home = root / "home"
    home.mkdir(exist_ok=True)
    gunicorn_command = [sys.executable, "-m", "gunicorn", "--config", str(GUNICORN_CONF)]
    gunicorn_command += ["--bind", f"unix:{socket_path}"]
    processes: list[subprocess.Popen[bytes]] = []
    app = _App(
        gunicorn_command,
        {**os.environ, **deployment.env, "HOME": str(home)},
        gunicorn_log,
        socket_path,
    )
    try:
        app.start()
        with open(nginx_dir / "logs" / "stderr.log", "ab") as log:
            processes.append(
                subprocess.Popen(
                    [NGINX, "-p", str(nginx_dir), "-c", str(main), "-e", "stderr"],
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            )
        _wait(lambda: _accepts_tcp(proxy_port) and _accepts_tcp(plain_port), processes, "nginx")
        yield Stack(
            root, deployment, proxy_port, plain_port, socket_path, nginx_dir, gunicorn_log, app
        )
    finally:
        for process in reversed(processes):
            _stop(process)
        app.close()


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="sealdrop-stack-") as tmp:
        root = Path(tmp)
        proxy_port = int(os.environ.get("SEALDROP_STACK_PROXY_PORT", SHIPPED_PROXY_PORT))
        plain_port = int(os.environ.get("SEALDROP_STACK_PLAIN_PORT", SHIPPED_PLAIN_PORT))
        signal.signal(signal.SIGTERM, signal.default_int_handler)
        with (
            contextlib.suppress(KeyboardInterrupt),
            running_stack(root, proxy_port=proxy_port, plain_port=plain_port) as stack,
        ):
            _announce(stack)
            while True:
                time.sleep(3600)  # until Ctrl-C (SIGINT) or SIGTERM


def _announce(stack: Stack) -> None:
    identity = stack.root / "site" / "identity.key"
    identity.write_text(stack.deployment.identity.to_file_text(DEMO_PASSPHRASE))
    env = " ".join(f"{k}={v}" for k, v in stack.deployment.env.items())
    print(
        "sealdrop's production stack on loopback (nginx + gunicorn, shipped configs):\n"
        f"  for a browser here:       http://127.0.0.1:{stack.plain_port}/\n"
        f"  for tor (PROXY protocol): 127.0.0.1:{stack.proxy_port}  (torrc: HiddenServicePort "
        f"80 127.0.0.1:{stack.proxy_port} and HiddenServiceExportCircuitID haproxy)\n"
        f"  gunicorn's socket:        {stack.socket_path}\n"
        f"  throwaway data dir:       {stack.deployment.env['SEALDROP_DATA_DIR']}\n"
        f"  logs:                     {stack.gunicorn_log}, {stack.nginx_dir / 'logs'}\n"
        f"To read what was sent (the demo reviewer's passphrase is {DEMO_PASSPHRASE!r}):\n"
        f"  {env} .venv/bin/sealdrop-intake export --out {stack.root}/bundle.tar\n"
        f"  .venv/bin/sealdrop-reviewer open {stack.root}/bundle.tar --key {identity}\n"
        "Ctrl-C stops it and deletes everything.",
        flush=True,
    )


if __name__ == "__main__":
    main()
