"""A private Tor network on 127.0.0.1, with Debian's tor (see docs in the module's functions).

    with TorNetwork(workdir, service_torrc) as net:   # service_torrc: deploy/torrc, adapted
        net.onion       # the service's .onion address
        net.socks_port  # the client's SOCKS port on 127.0.0.1

Three directory authorities that also relay and two more relays form the network; the onion
service and the client start only once every authority's consensus lists all five relays
(tors started earlier back off for a minute). Every tor gets __OwningControllerProcess set to
this process, so they all exit if the test process dies; on leaving, each tor started here is
stopped by its pid, whatever happened.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from tests.deploy.helpers import free_port

TOR = shutil.which("tor") or "/usr/bin/tor"
TOR_GENCERT = shutil.which("tor-gencert") or "/usr/bin/tor-gencert"
AUTHORITIES = 3
RELAYS = 2
CONSENSUS_DEADLINE_S = 90
STOP_DEADLINE_S = 10

COMMON = """\
TestingTorNetwork 1
RunAsDaemon 0
Sandbox 0
ShutdownWaitLength 0
CookieAuthentication 1
SafeLogging 1
PathsNeededToBuildCircuits 0.67
TestingDirAuthVoteGuard *
TestingDirAuthVoteHSDir *
TestingDirAuthVoteExit *
TestingMinExitFlagThreshold 0
V3AuthNIntervalsValid 2
"""

RELAY = """\
Address 127.0.0.1
SocksPort 0
ExitRelay 0
ExitPolicy reject *:*
AssumeReachable 1
ServerDNSDetectHijacking 0
ServerDNSTestAddresses
"""

AUTHORITY = """\
AuthoritativeDirectory 1
V3AuthoritativeDirectory 1
TestingV3AuthInitialVotingInterval 5
TestingV3AuthInitialVoteDelay 2
TestingV3AuthInitialDistDelay 2
V3AuthVotingInterval 10
V3AuthVoteDelay 2
V3AuthDistDelay 2
"""


def _read_reply(stream: BinaryIO) -> list[str]:
    lines = []
    while True:
        raw = stream.readline().decode("utf-8", "replace").rstrip("\r\n")
        if len(raw) < 4:
            raise ConnectionError(f"bad control reply {raw!r}")
        status, separator, text = raw[:3], raw[3], raw[4:]
        if status != "250":
            raise RuntimeError(f"tor control: {raw}")
        if separator == "+":
            while (data := stream.readline().decode("utf-8", "replace").rstrip("\r\n")) != ".":
                text += "\n" + data
        lines.append(text)
        if separator == " ":
            return lines


@dataclass
class Tor:
    name: str
    data_dir: Path
    torrc: Path
    log: Path
    control_port: int = 0
    process: subprocess.Popen[bytes] | None = None

    def control(self, command: str) -> list[str]:
        """Sends one command on the control port (cookie authentication); returns the reply
        lines without their status codes. Raises on a non-250 reply."""
        cookie = (self.data_dir / "control_auth_cookie").read_bytes().hex()
        with socket.create_connection(("127.0.0.1", self.control_port), 10) as sock:
            stream = sock.makefile("rwb")
            lines = []
            for line in (f"AUTHENTICATE {cookie}", command, "QUIT"):
                stream.write(line.encode() + b"\r\n")
                stream.flush()
                lines = _read_reply(stream)
                if line == command:
                    return lines[:-1] if len(lines) > 1 and lines[-1] == "OK" else lines
        raise AssertionError("unreachable")


@dataclass
class TorNetwork:
    workdir: Path
    service_torrc: str
    tors: list[Tor] = field(default_factory=list)
    onion: str = ""
    socks_port: int = 0
    service: Tor | None = None
    client: Tor | None = None
    _empty: Path = field(init=False)
    timings: dict[str, float] = field(default_factory=dict)

    def __enter__(self) -> TorNetwork:
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- starting --------------------------------------------------------------------------

    def _start(self) -> None:
        began = time.monotonic()
        self.workdir.mkdir(parents=True, exist_ok=True)
        resolv = self.workdir / "resolv.conf"
        resolv.write_text("nameserver 127.0.0.1\n")
        # tor refuses /dev/null as a configuration file; Debian's defaults must not apply.
        self._empty = self.workdir / "empty.torrc"
        self._empty.write_text("")
        relay_common = RELAY + f"ServerDNSResolvConfFile {resolv}\n"
        authorities = [self._new(f"auth{i}") for i in range(AUTHORITIES)]
        relays = [self._new(f"relay{i}") for i in range(RELAYS)]
        dir_lines = []
        for tor in authorities:
            or_port, dir_port = free_port(), free_port()
            v3ident = self._authority_keys(tor, dir_port)
            tor.torrc.write_text(
                self._base(tor)
                + relay_common
                + AUTHORITY
                + f"ORPort 127.0.0.1:{or_port}\nDirPort 127.0.0.1:{dir_port}\n"
            )
            fingerprint = self._fingerprint(tor)
            dir_lines.append(
                f"DirAuthority {tor.name} orport={or_port} no-v2 v3ident={v3ident} "
                f"127.0.0.1:{dir_port} {fingerprint}\n"
            )
        directory = "".join(dir_lines)
        for tor in authorities:
            tor.torrc.write_text(tor.torrc.read_text() + directory)
        for tor in relays:
            tor.torrc.write_text(
                self._base(tor) + relay_common + f"ORPort 127.0.0.1:{free_port()}\n" + directory
            )
        for tor in authorities + relays:
            self._launch(tor)
        self._wait_for_consensus(authorities, AUTHORITIES + RELAYS)
        self.timings["consensus"] = time.monotonic() - began

        service = self._new("service")
        service.torrc.write_text(self._base(service) + directory + self.service_torrc)
        client = self._new("client")
        self.socks_port = free_port()
        socks_line = f"SocksPort 127.0.0.1:{self.socks_port} ExtendedErrors\n"
        client.torrc.write_text(self._base(client) + directory + socks_line)
        self._launch(service)
        self._launch(client)
        self.onion = self._wait_for_hostname(service)
        self.service = service
        self.client = client

    def _new(self, name: str) -> Tor:
        data_dir = self.workdir / name
        data_dir.mkdir(mode=0o700)
        tor = Tor(name, data_dir, self.workdir / f"{name}.torrc", self.workdir / f"{name}.log")
        self.tors.append(tor)
        return tor

    def _base(self, tor: Tor) -> str:
        tor.control_port = free_port()
        return (
            COMMON
            + f"Nickname {tor.name}\nDataDirectory {tor.data_dir}\n"
            + f"ControlPort 127.0.0.1:{tor.control_port}\n"
            + f"Log notice file {tor.log}\n"
            + f"__OwningControllerProcess {os.getpid()}\n"
        )

    def _authority_keys(self, tor: Tor, dir_port: int) -> str:
        keys = tor.data_dir / "keys"
        keys.mkdir(mode=0o700)
        subprocess.run(
            [
                *(TOR_GENCERT, "--create-identity-key", "--passphrase-fd", "0", "-m", "12"),
                *("-i", str(keys / "authority_identity_key")),
                *("-s", str(keys / "authority_signing_key")),
                *("-c", str(keys / "authority_certificate")),
                *("-a", f"127.0.0.1:{dir_port}"),
            ],
            input=b"\n",
            check=True,
            capture_output=True,
        )
        certificate = (keys / "authority_certificate").read_text()
        match = re.search(r"^fingerprint ([0-9A-F]{40})$", certificate, re.MULTILINE)
        assert match, "tor-gencert wrote no fingerprint"
        return match.group(1)

    def _fingerprint(self, tor: Tor) -> str:
        """Creates the relay's identity key in its data dir and returns its fingerprint."""
        result = subprocess.run(
            [
                *(TOR, "--list-fingerprint", "--quiet"),
                *("--defaults-torrc", str(self._empty), "-f", str(self._empty)),
                *("--DataDirectory", str(tor.data_dir), "--ORPort", "1"),
            ],
            check=True,
            capture_output=True,
            text=True,
        )
        match = re.search(r"((?:[0-9A-F]{4} ?){10})\s*$", result.stdout.strip())
        assert match, f"no fingerprint in {result.stdout!r}"
        return match.group(1).replace(" ", "")

    def _launch(self, tor: Tor) -> None:
        tor.process = subprocess.Popen(
            [TOR, "-f", str(tor.torrc), "--defaults-torrc", str(self._empty)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def _wait_for_consensus(self, authorities: list[Tor], relays: int) -> None:
        """Until every authority's cached consensus lists every relay (authorities included)."""
        deadline = time.monotonic() + CONSENSUS_DEADLINE_S
        while True:
            counts = [self._consensus_size(tor) for tor in authorities]
            if all(count >= relays for count in counts):
                return
            self._check_alive()
            if time.monotonic() > deadline:
                raise TimeoutError(f"no full consensus after {CONSENSUS_DEADLINE_S} s: {counts}")
            time.sleep(0.2)  # polling files tor writes, bounded by the deadline

    @staticmethod
    def _consensus_size(tor: Tor) -> int:
        try:
            text = (tor.data_dir / "cached-consensus").read_text(errors="replace")
        except FileNotFoundError:
            return 0
        return sum(1 for line in text.splitlines() if line.startswith("r "))

    def _wait_for_hostname(self, service: Tor) -> str:
        deadline = time.monotonic() + CONSENSUS_DEADLINE_S
        hostname = self.hidden_service_dir(service) / "hostname"
        while not hostname.exists():
            self._check_alive()
            if time.monotonic() > deadline:
                raise TimeoutError("the onion service wrote no hostname")
            time.sleep(0.1)  # polling a file tor writes, bounded by the deadline
        return hostname.read_text().strip()

    def hidden_service_dir(self, service: Tor) -> Path:
        match = re.search(r"^HiddenServiceDir\s+(\S+)", self.service_torrc, re.MULTILINE)
        assert match, "the service torrc has no HiddenServiceDir"
        return Path(match.group(1))

    def _check_alive(self) -> None:
        for tor in self.tors:
            if tor.process is not None and tor.process.poll() is not None:
                tail = tor.log.read_text(errors="replace")[-2000:] if tor.log.exists() else ""
                raise RuntimeError(f"tor {tor.name} exited ({tor.process.returncode}):\n{tail}")

    # --- stopping --------------------------------------------------------------------------

    def stop(self) -> None:
        running = [tor.process for tor in self.tors if tor.process is not None]
        for process in running:
            with contextlib.suppress(ProcessLookupError):
                process.terminate()
        deadline = time.monotonic() + STOP_DEADLINE_S
        for process in running:
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
