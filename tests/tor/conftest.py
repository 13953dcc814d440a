"""The onion service under test: the intake app under gunicorn with deploy/gunicorn.conf.py,
behind a tor configured by deploy/torrc, in a private Tor network on 127.0.0.1.

After a failure, every tor's torrc and log and gunicorn's log are in pytest's temp dir
(`tor-e2e*/net/*.log`, `tor-e2e*/gunicorn.log`)."""

from __future__ import annotations

import http.client
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import socks

from tests.deploy.helpers import TORRC, Client, Deployment, gunicorn, make_deployment

from .network import TorNetwork

REACH_DEADLINE_S = 90


def service_torrc(hidden_service_dir: Path, app_port: int) -> str:
    """deploy/torrc with the test's paths and port: everything else exactly as deployed."""
    text = TORRC.read_text()
    replacements = [
        (r"^HiddenServiceDir .*$", f"HiddenServiceDir {hidden_service_dir}"),
        (r"^HiddenServicePort 80 127\.0\.0\.1:\d+$", f"HiddenServicePort 80 127.0.0.1:{app_port}"),
        (r"^Log .*$", ""),  # the test network logs to files instead of syslog
    ]
    for pattern, replacement in replacements:
        text, count = re.subn(pattern, replacement, text, flags=re.MULTILINE)
        assert count == 1, f"deploy/torrc should have exactly one line matching {pattern}"
    return text


@dataclass
class Onion:
    deployment: Deployment
    client: Client
    network: TorNetwork
    gunicorn_log: Path
    startup_seconds: float


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
    deployment = make_deployment(root / "site")
    log = root / "gunicorn.log"
    with (
        gunicorn(deployment.env, log) as port,
        TorNetwork(root / "net", service_torrc(root / "hidden-service", port)) as network,
    ):
        client = Client(network.onion, 80, network.socks_port)
        wait_until_reachable(client)
        yield Onion(deployment, client, network, log, time.monotonic() - began)
