"""sealdrop-verify asks as Tor Browser asks: the same headers, in the same order (Host first),
so that a server cannot tell it from a person by what it sends."""

from __future__ import annotations

import socket
import threading

from verify.fetch import ACCEPT_ENCODING, USER_AGENTS, clients, headers, request

TOR_BROWSER_NAVIGATION = [
    "Host",
    "User-Agent",
    "Accept",
    "Accept-Language",
    "Accept-Encoding",
    "Connection",
    "Upgrade-Insecure-Requests",
    "Sec-Fetch-Dest",
    "Sec-Fetch-Mode",
    "Sec-Fetch-Site",
    "Sec-Fetch-User",
    "Priority",
]


def _sent_by_checker(sent: dict[str, str]) -> list[tuple[str, str]]:
    listener = socket.create_server(("127.0.0.1", 0))
    received: list[bytes] = []

    def serve() -> None:
        connection, _ = listener.accept()
        with connection:
            data = b""
            while b"\r\n\r\n" not in data:
                data += connection.recv(4096)
            received.append(data)
            connection.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")

    thread = threading.Thread(target=serve)
    thread.start()
    try:
        request("127.0.0.1", listener.getsockname()[1], "/", None, sent, timeout=10)
    finally:
        thread.join()
        listener.close()
    lines = received[0].decode("ascii").split("\r\n")[1:]
    return [tuple(line.split(": ", 1)) for line in lines if line]  # type: ignore[misc]


def test_a_page_is_asked_for_with_tor_browsers_headers_in_its_order() -> None:
    desktop = clients()[0]
    sent = _sent_by_checker(headers(desktop, "document", "none"))
    assert [name for name, _ in sent] == TOR_BROWSER_NAVIGATION
    values = dict(sent)
    assert values["User-Agent"] == USER_AGENTS["Tor Browser (Windows)"]
    assert values["Accept"].startswith("text/html,application/xhtml+xml")
    assert values["Accept-Language"] == "en-US,en;q=0.5"
    assert values["Accept-Encoding"] == ACCEPT_ENCODING


def test_every_tor_browser_and_encoding_is_asked() -> None:
    asked = {(c.user_agent, c.accept_encoding) for c in clients()}
    assert {agent for agent, _ in asked} == set(USER_AGENTS.values())
    assert {"gzip, deflate, br, zstd", "gzip, deflate", "identity"} <= {e for _, e in asked}
    script = dict(_sent_by_checker(headers(clients()[0], "script", "same-origin")))
    assert (script["Accept"], script["Sec-Fetch-Dest"]) == ("*/*", "script")
    assert "Upgrade-Insecure-Requests" not in script
