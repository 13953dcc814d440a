"""A SOCKS5 CONNECT by host name (RFC 1928, no authentication), enough for Tor's SOCKS port.

The name is sent to the proxy unresolved, so an onion address never reaches a DNS resolver.
"""

from __future__ import annotations

import socket

# RFC 1928's replies, then Tor's extended ones for onion services (tor(1), ExtendedErrors).
REPLIES = {
    1: "general SOCKS server failure",
    2: "connection not allowed by the proxy",
    3: "network unreachable",
    4: "host unreachable",
    5: "connection refused",
    6: "TTL expired (timed out)",
    7: "command not supported",
    8: "address type not supported",
    0xF0: "onion service descriptor not found (the service is not running or not published)",
    0xF1: "onion service descriptor is invalid",
    0xF2: "onion service introduction failed",
    0xF3: "onion service rendezvous failed",
    0xF4: "onion service needs client authorization",
    0xF5: "onion service client authorization is wrong",
    0xF6: "invalid onion address",
    0xF7: "onion service introduction timed out",
}


class SocksError(OSError):
    """The proxy could not be used or could not connect."""


def _recv_exact(sock: socket.socket, n: int) -> bytes:
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise SocksError("the SOCKS proxy closed the connection")
        data += chunk
    return data


def connect(proxy: tuple[str, int], host: str, port: int, timeout: float) -> socket.socket:
    """A socket connected to host:port through the SOCKS5 proxy."""
    name = host.encode("ascii")
    if not 0 < len(name) < 256:
        raise SocksError(f"the host name {host!r} cannot be sent through SOCKS5")
    try:
        sock = socket.create_connection(proxy, timeout=timeout)
    except OSError as exc:
        raise SocksError(
            f"cannot reach the SOCKS proxy at {proxy[0]}:{proxy[1]} ({exc.strerror or exc}); "
            "is tor running with that SocksPort?"
        ) from None
    try:
        sock.sendall(b"\x05\x01\x00")
        if _recv_exact(sock, 2) != b"\x05\x00":
            raise SocksError(f"{proxy[0]}:{proxy[1]} is not a SOCKS5 proxy without a password")
        sock.sendall(b"\x05\x01\x00\x03" + bytes([len(name)]) + name + port.to_bytes(2, "big"))
        version, reply, _, address_type = _recv_exact(sock, 4)
        if version != 5:
            raise SocksError("the SOCKS proxy answered with another protocol")
        if reply != 0:
            raise SocksError(f"{host}: {REPLIES.get(reply, f'SOCKS error {reply}')}")
        skip = {1: 4, 4: 16}.get(address_type)
        if skip is None:
            skip = _recv_exact(sock, 1)[0] if address_type == 3 else 0
        _recv_exact(sock, skip + 2)
    except BaseException:
        sock.close()
        raise
    return sock
