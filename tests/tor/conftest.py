"""The onion service under test: the production stack (tests/support/stack.py: nginx from
deploy/nginx/ in front of gunicorn with deploy/gunicorn.conf.py on a unix socket), behind a
tor configured by deploy/torrc (which exports each circuit's id to nginx's PROXY-protocol
listener), in a private Tor network on 127.0.0.1.

After a failure, every tor's torrc and log and gunicorn's and nginx's logs are in pytest's
temp dir (`tor-e2e*/net/*.log`, `tor-e2e*/stack/gunicorn.log`, `tor-e2e*/stack/nginx/logs`)."""

from __future__ import annotations

import http.client
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import socks

from tests.deploy.helpers import TORRC, Client, Deployment, _SocksConnection
from tests.support.stack import Stack, running_stack

from .network import TorNetwork

REACH_DEADLINE_S = 90


def service_torrc(hidden_service_dir: Path, proxy_port: int) -> str:
    """deploy/torrc with the test's paths and nginx's port: everything else as deployed."""
    text = TORRC.read_text()
    replacements = [
        (r"^HiddenServiceDir .*$", f"HiddenServiceDir {hidden_service_dir}"),
        (
            r"^HiddenServicePort 80 127\.0\.0\.1:\d+$",
            f"HiddenServicePort 80 127.0.0.1:{proxy_port}",
        ),
        (r"^Log .*$", ""),  # the test network logs to files instead of syslog
    ]
    for pattern, replacement in replacements:
        text, count = re.subn(pattern, replacement, text, flags=re.MULTILINE)
        assert count == 1, f"deploy/torrc should have exactly one line matching {pattern}"
    return text


@dataclass
class IsolatedClient(Client):
    """A client whose requests go over a Tor circuit of their own: tor keeps streams with
    different SOCKS credentials on different circuits (IsolateSOCKSAuth, on by default)."""

    isolation: str = ""

    def connection(self) -> http.client.HTTPConnection:
        connection = super().connection()
        assert isinstance(connection, _SocksConnection)
        connection.credentials = (self.isolation, "x")
        return connection


@dataclass
class Onion:
    deployment: Deployment
    client: Client
    network: TorNetwork
    stack: Stack
    startup_seconds: float

    @property
    def gunicorn_log(self) -> Path:
        return self.stack.gunicorn_log

    def circuit(self, name: str) -> IsolatedClient:
        return IsolatedClient(self.network.onion, 80, self.network.socks_port, isolation=name)


def wait_until_reachable(client: Client) -> None:
    """Until the descriptor is published, the client's SOCKS connects fail (0xF0)."""
    deadline = time.monotonic() + REACH_DEADLINE_S
    while True:
        try:
            client.request("GET", "/")
            return
        except (socks.ProxyError, OSError, http.client.HTTPException):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)  # retrying a connect that tor refuses, bounded by the deadline


@pytest.fixture(scope="package")
def onion(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Onion]:
    began = time.monotonic()
    root = tmp_path_factory.mktemp("tor-e2e")
    with (
        running_stack(root / "stack") as stack,
        TorNetwork(
            root / "net", service_torrc(root / "hidden-service", stack.proxy_port)
        ) as network,
    ):
        client = Client(network.onion, 80, network.socks_port)
        wait_until_reachable(client)
        yield Onion(stack.deployment, client, network, stack, time.monotonic() - began)
