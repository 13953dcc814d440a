"""A finding of `sealdrop-intake check` (one plain sentence, ok or a problem), and the address
test that the gunicorn and Tor checks share."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass


@dataclass(frozen=True)
class Finding:
    ok: bool
    message: str

    def __str__(self) -> str:
        return f"{'ok' if self.ok else 'PROBLEM'}: {self.message}"


def ok(message: str) -> Finding:
    return Finding(True, message)


def problem(message: str) -> Finding:
    return Finding(False, message)


def loopback_bind(address: str) -> bool:
    """Whether a listening address (host:port, unix:path, fd://n) is reachable from this
    machine only."""
    if address.startswith("unix:") or address.startswith("fd://"):
        return True
    host = address.rsplit(":", 1)[0] if ":" in address else address
    return is_loopback(host.strip("[]"))


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
