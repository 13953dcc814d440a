"""The reviewer never opens a socket: every command works with sockets refused (audit hook in
every Python process it starts), and again inside a network namespace with no network at all
(unshare -rn) where the machine allows it."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from reviewer_helpers import REPO, Keys, reviewer_command
from reviewer_session import exercise_every_command

from reviewer import attachments
from reviewer.cli import main
from reviewer.vault import Vault

BLOCKER = Path(__file__).parent / "netblock"


def _unshare_works() -> bool:
    try:
        return subprocess.run(["unshare", "-rn", "true"], capture_output=True).returncode == 0
    except FileNotFoundError:
        return False


def _launcher(log: Path, isolate: bool):
    env = {**os.environ, "PYTHONPATH": str(BLOCKER), "SEALDROP_NETBLOCK_LOG": str(log)}
    prefix = ["unshare", "-rn"] if isolate else []

    def run(argv):
        return subprocess.run(
            [*prefix, *reviewer_command(*argv)],
            capture_output=True,
            text=True,
            cwd=REPO,
            env=env,
            check=False,
        )

    return run, env, prefix


@pytest.mark.parametrize("isolate", [False, True], ids=["audit-hook", "audit-hook+unshare-net"])
def test_every_command_works_with_the_network_blocked(tmp_path: Path, keys: Keys, isolate: bool):
    if isolate and not _unshare_works():
        pytest.skip("unshare -rn is not permitted on this machine")
    log = tmp_path / "net.log"
    run, env, prefix = _launcher(log, isolate)

    # The blocker is real: a socket attempt under it fails and is logged.
    probe = "import socket; socket.create_connection(('127.0.0.1', 9))"
    attempt = subprocess.run(
        [*prefix, sys.executable, "-c", probe], capture_output=True, text=True, env=env
    )
    assert attempt.returncode != 0 and "air-gap test" in attempt.stderr
    if isolate:  # and even without the hook there is no route anywhere
        reach = "import socket; socket.create_connection(('192.0.2.1', 9), timeout=5)"
        bare = subprocess.run(
            ["unshare", "-rn", sys.executable, "-c", reach], capture_output=True, text=True
        )
        assert "Network is unreachable" in bare.stderr
    assert log.read_text().count("BLOCKED") == 1
    log.unlink()

    with_mat2 = attachments.mat2_path() is not None
    ran = exercise_every_command(run, tmp_path, keys, with_mat2=with_mat2)
    assert ran == [
        "keygen",
        "fingerprint",
        "signing-keygen",
        "sign-deployment",
        "config",
        "open",
        "list",
        "show",
        "reply",
        "status",
        "note",
        "tag",
        "assign",
        "urgent",
        "search",
        "team",
        "team",
        "team",
        "team",
        "export-replies",
        "handover",
        "team",
        "save",
        "export-case",
        "destroy",
        "trash",
    ]
    assert set(ran) == set(main.commands)  # a new command must join the session
    lines = log.read_text().splitlines()
    assert not [line for line in lines if line.startswith("BLOCKED")], lines
    armed = [line for line in lines if line.startswith("armed") and "reviewer" in line]
    assert len(armed) == len(ran)  # each command really ran under the blocker
    if with_mat2:  # mat2, a Python program, ran under it too
        assert any("mat2" in line for line in lines if line.startswith("armed"))


def test_the_inbox_app_works_with_the_network_blocked(tmp_path: Path, keys: Keys):
    """The app opens a bundle, searches, notes, replies and exports under the blocker (its
    event loop's internal socketpair is the one socket allowed: it never connects)."""
    from inbox_helpers import write_caseload
    from reviewer_helpers import PASSPHRASE

    log = tmp_path / "net.log"
    _run, env, _prefix = _launcher(log, isolate=False)
    vault = tmp_path / "vault"
    Vault(vault).set_config(identity=str(keys.key_file))
    bundle = write_caseload(tmp_path / "caseload.tar", keys.public)
    out = tmp_path / "replies.tar"
    script = Path(__file__).parent / "app_session.py"
    env["PYTHONPATH"] = os.pathsep.join([str(BLOCKER), str(REPO), str(Path(__file__).parent)])
    result = subprocess.run(
        [sys.executable, script, vault, bundle, PASSPHRASE, out],
        capture_output=True,
        text=True,
        cwd=REPO,
        env=env,
        check=False,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "app session done" in result.stdout
    assert out.is_file() and len(Vault(vault).ids()) == 5  # it really worked offline
    lines = log.read_text().splitlines()
    assert [line for line in lines if line.startswith("armed")]
    assert not [line for line in lines if line.startswith("BLOCKED")], lines


def test_no_network_module_is_imported_by_reviewer_or_crypto():
    pattern = re.compile(
        r"^\s*(import|from)\s+(socket|ssl|http|urllib|requests|asyncio|smtplib|ftplib)\b", re.M
    )
    for package in ("reviewer", "crypto"):
        for source in (REPO / package).rglob("*.py"):
            assert not pattern.search(source.read_text()), source
