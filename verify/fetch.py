"""HTTP requests through SOCKS5 with the standard library, bounded in size and time, sent
with the headers Tor Browser sends, in its order.

Tor Browser is Firefox ESR with ``privacy.resistFingerprinting``: every copy sends the same
en-US headers; only the operating system in the User-Agent differs (desktop copies name
their OS family since Tor Browser 13; Android says ``Android 10; Mobile``). Firefox asks for
``gzip, deflate, br, zstd`` over connections it treats as secure and ``gzip, deflate``
otherwise, so the checker asks both ways, and once for ``identity``. A server that answers
in an encoding the checker cannot read (br, zstd) is refused: what it sent cannot be judged.
"""

from __future__ import annotations

import http.client
import time
import zlib
from dataclasses import dataclass

from . import socks

MAX_BYTES = 16 << 20
FIREFOX = "rv:140.0) Gecko/20100101 Firefox/140.0"
USER_AGENTS = {
    "Tor Browser (Windows)": f"Mozilla/5.0 (Windows NT 10.0; {FIREFOX}",
    "Tor Browser (Linux)": f"Mozilla/5.0 (X11; Linux x86_64; {FIREFOX}",
    "Tor Browser (macOS)": f"Mozilla/5.0 (Macintosh; Intel Mac OS X 10.15; {FIREFOX}",
    "Tor Browser (Android)": "Mozilla/5.0 (Android 10; Mobile; rv:140.0) Gecko/140.0 Firefox/140.0",
}
ACCEPT_ENCODING = "gzip, deflate, br, zstd"
# What the browser asks for, by what it loads (Firefox's defaults, network.http.accept).
ACCEPT = {
    "document": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
    "script": "*/*",
    "worker": "*/*",
    "style": "text/css,*/*;q=0.1",
    "empty": "*/*",  # fetch() from a script
}
_MODE = {
    "document": "navigate",
    "script": "no-cors",
    "worker": "same-origin",
    "style": "no-cors",
    "empty": "cors",
}
_PRIORITY = {"document": "u=0, i", "script": "u=2", "style": "u=2", "empty": "u=4"}


@dataclass(frozen=True)
class Client:
    """One way of asking: which browser, and which encodings it accepts."""

    name: str
    user_agent: str
    accept_encoding: str

    def __str__(self) -> str:
        if self.accept_encoding == ACCEPT_ENCODING:
            return self.name
        return f"{self.name} asking for {self.accept_encoding}"


def clients() -> list[Client]:
    """Every way the checker asks for a page or an asset: each Tor Browser as it is, then the
    desktop one asking for the other encodings a browser may ask for."""
    every = [Client(name, agent, ACCEPT_ENCODING) for name, agent in USER_AGENTS.items()]
    windows = every[0]
    every += [
        Client(windows.name, windows.user_agent, encoding)
        for encoding in ("gzip, deflate", "identity")
    ]
    return every


def headers(client: Client, destination: str, site: str, origin: bool = False) -> dict[str, str]:
    """The request headers in the order Firefox sends them (Host comes first, from
    http.client). ``destination`` is Sec-Fetch-Dest; ``site`` is Sec-Fetch-Site ("none" for
    an address typed in, "same-origin" for a link followed or an asset loaded)."""
    sent = {
        "User-Agent": client.user_agent,
        "Accept": ACCEPT[destination],
        "Accept-Language": "en-US,en;q=0.5",
        "Accept-Encoding": client.accept_encoding,
    }
    if origin:  # a form posted from a page whose Referrer-Policy is no-referrer
        sent["Content-Type"] = "application/x-www-form-urlencoded"
        sent["Origin"] = "null"
    sent["Connection"] = "keep-alive"
    if destination == "document":
        sent["Upgrade-Insecure-Requests"] = "1"
    sent["Sec-Fetch-Dest"] = destination
    sent["Sec-Fetch-Mode"] = _MODE[destination]
    sent["Sec-Fetch-Site"] = site
    if destination == "document":
        sent["Sec-Fetch-User"] = "?1"
    if destination in _PRIORITY:
        sent["Priority"] = _PRIORITY[destination]
    return sent


class FetchError(OSError):
    """Nothing usable came back."""


class UnreadableEncoding(FetchError):
    """The server answered in an encoding the checker cannot decode (so cannot judge)."""


@dataclass(frozen=True)
class Response:
    status: int
    headers: http.client.HTTPMessage
    body: bytes  # decoded if it came gzip- or deflate-encoded


class _SocksConnection(http.client.HTTPConnection):
    def __init__(self, host: str, port: int, proxy: tuple[str, int] | None, timeout: float):
        super().__init__(host, port, timeout=timeout)
        self._proxy = proxy

    def connect(self) -> None:
        if self._proxy is None:
            super().connect()
        else:
            self.sock = socks.connect(self._proxy, self.host, self.port, self.timeout)


def _read_bounded(response: http.client.HTTPResponse, path: str, deadline: float) -> bytes:
    """At most MAX_BYTES + 1 bytes, within one timeout in all (a server that drips bytes
    slowly does not hold the checker for ever)."""
    chunks: list[bytes] = []
    size = 0
    while size <= MAX_BYTES:
        chunk = response.read(min(1 << 16, MAX_BYTES + 1 - size))
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
        if time.monotonic() > deadline:
            raise FetchError(f"{path}: the answer is too slow")
    return b"".join(chunks)


def request(
    host: str,
    port: int,
    path: str,
    proxy: tuple[str, int] | None,
    sent: dict[str, str],
    *,
    method: str = "GET",
    timeout: float = 120.0,
) -> Response:
    connection = _SocksConnection(host, port, proxy, timeout)
    body = b"" if method == "POST" else None
    try:
        connection.putrequest(method, path, skip_accept_encoding=True)
        for name, value in sent.items():
            connection.putheader(name, value)
        if body is not None:
            connection.putheader("Content-Length", "0")
        connection.endheaders(body)
        response = connection.getresponse()
        data = _read_bounded(response, path, time.monotonic() + timeout)
    except FetchError:
        raise
    except (OSError, http.client.HTTPException) as exc:
        raise FetchError(f"{method} {path}: {exc}") from None
    finally:
        connection.close()
    if len(data) > MAX_BYTES:
        raise FetchError(f"{method} {path}: larger than {MAX_BYTES >> 20} MiB")
    return Response(response.status, response.headers, _decoded(response.headers, data, path))


def _decoded(headers: http.client.HTTPMessage, data: bytes, path: str) -> bytes:
    encoding = (headers.get("Content-Encoding") or "identity").strip().lower()
    if encoding == "identity":
        return data
    if encoding in ("gzip", "x-gzip"):
        wbits = 16 + zlib.MAX_WBITS
    elif encoding == "deflate":  # zlib-wrapped as the RFC says, or raw as some servers send
        wbits = zlib.MAX_WBITS if data[:1] == b"\x78" else -zlib.MAX_WBITS
    else:
        raise UnreadableEncoding(
            f"{path}: answered in the {encoding} encoding, which this checker cannot read, "
            "so cannot compare; a sealdrop service serves only gzip or identity"
        )
    inflate = zlib.decompressobj(wbits=wbits)
    try:
        body = inflate.decompress(data, MAX_BYTES + 1)
    except zlib.error:
        raise FetchError(f"{path}: the {encoding} encoding is damaged") from None
    if len(body) > MAX_BYTES or inflate.unconsumed_tail or not inflate.eof:
        raise FetchError(f"{path}: the {encoding} encoding is damaged or too large")
    return body
