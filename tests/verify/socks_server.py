"""A SOCKS5 server for tests, on 127.0.0.1: it accepts CONNECT by name for any host and joins
the client to one fixed local address, as Tor's SOCKS port joins it to an onion service.
It records the names it was asked for."""

from __future__ import annotations

import contextlib
import socket
import socketserver
import threading


class _Handler(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        client: socket.socket = self.request
        if client.recv(3) != b"\x05\x01\x00":
            return
        client.sendall(b"\x05\x00")
        head = client.recv(5)
        name = client.recv(head[4] + 2)[:-2].decode("ascii")
        self.server.names.append(name)  # type: ignore[attr-defined]
        upstream = socket.create_connection(self.server.target)  # type: ignore[attr-defined]
        client.sendall(b"\x05\x00\x00\x01" + bytes(6))
        pump = threading.Thread(target=_copy, args=(upstream, client), daemon=True)
        pump.start()
        _copy(client, upstream)
        pump.join()


def _copy(source: socket.socket, target: socket.socket) -> None:
    try:
        while data := source.recv(65536):
            target.sendall(data)
    except OSError:
        pass
    finally:
        with contextlib.suppress(OSError):
            target.shutdown(socket.SHUT_WR)


class SocksServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, target: tuple[str, int]) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.target = target
        self.names: list[str] = []
        self._thread = threading.Thread(target=self.serve_forever, daemon=True)

    @property
    def address(self) -> str:
        host, port = self.server_address[:2]
        return f"{host}:{port}"

    def __enter__(self) -> SocksServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.shutdown()
        self.server_close()
