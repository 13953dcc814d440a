"""HTTP GET through SOCKS5 with the standard library, bounded in size and time."""

from __future__ import annotations

import http.client
import time
import zlib
from dataclasses import dataclass

from . import socks

MAX_BYTES = 16 << 20
# What Tor Browser sends, so that the server sees an ordinary visitor.
HEADERS = {
    "User-Agent": "Mozilla/5.0 (Windows NT 10.0; rv:128.0) Gecko/20100101 Firefox/128.0",
    "Accept-Language": "en-US,en;q=0.5",
}


class FetchError(OSError):
    """Nothing usable came back."""


@dataclass(frozen=True)
class Response:
    status: int
    headers: http.client.HTTPMessage
    body: bytes  # decoded if it came gzipped


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
            raise FetchError(f"GET {path}: the answer is too slow")
    return b"".join(chunks)


def get(
    host: str,
    port: int,
    path: str,
    proxy: tuple[str, int] | None,
    *,
    gzip_ok: bool = False,
    timeout: float = 120.0,
) -> Response:
    connection = _SocksConnection(host, port, proxy, timeout)
    headers = {**HEADERS, "Accept-Encoding": "gzip" if gzip_ok else "identity"}
    try:
        connection.request("GET", path, headers=headers)
        response = connection.getresponse()
        body = _read_bounded(response, path, time.monotonic() + timeout)
    except FetchError:
        raise
    except (OSError, http.client.HTTPException) as exc:
        raise FetchError(f"GET {path}: {exc}") from None
    finally:
        connection.close()
    if len(body) > MAX_BYTES:
        raise FetchError(f"GET {path}: larger than {MAX_BYTES >> 20} MiB")
    encoding = (response.headers.get("Content-Encoding") or "identity").lower()
    if encoding == "gzip":
        inflate = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
        try:
            body = inflate.decompress(body, MAX_BYTES + 1)
        except zlib.error:
            raise FetchError(f"GET {path}: the gzip encoding is damaged") from None
        if len(body) > MAX_BYTES or inflate.unconsumed_tail or not inflate.eof:
            raise FetchError(f"GET {path}: the gzip encoding is damaged or too large")
    elif encoding != "identity":
        raise FetchError(f"GET {path}: unexpected Content-Encoding {encoding}")
    return Response(response.status, response.headers, body)
