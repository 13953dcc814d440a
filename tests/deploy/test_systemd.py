"""The systemd units: valid, and as locked down as systemd's own scoring says (offline)."""

from __future__ import annotations

import ctypes
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from .helpers import DEPLOY

UNITS = sorted((DEPLOY / "systemd").glob("sealdrop-*.service"))
TIMERS = sorted((DEPLOY / "systemd").glob("sealdrop-*.timer"))
SOCKETS = sorted((DEPLOY / "systemd").glob("sealdrop-*.socket"))
SYSTEMD_ANALYZE = shutil.which("systemd-analyze")
# systemd-analyze's exposure score is 0 (locked down) to 10; --threshold takes it times ten.
MAX_EXPOSURE_X10 = 15


def directives(unit: Path) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for line in unit.read_text().splitlines():
        if "=" in line and not line.lstrip().startswith(("#", ";")):
            key, value = line.split("=", 1)
            found.setdefault(key.strip(), []).append(value.strip())
    return found


def runnable_copies(tmp_path: Path) -> list[Path]:
    """The units with their /opt/sealdrop binaries (absent here) replaced by /bin/true."""
    copies = []
    for unit in UNITS + TIMERS + SOCKETS:
        copy = tmp_path / unit.name
        text = unit.read_text()
        for program in ("gunicorn", "sealdrop-intake"):
            text = text.replace(f"/opt/sealdrop/venv/bin/{program}", "/bin/true")
        copy.write_text(text)
        copies.append(copy)
    return copies


@pytest.mark.parametrize("unit", UNITS, ids=lambda p: p.name)
def test_units_run_as_the_service_user_and_write_only_the_data_dir(unit: Path) -> None:
    found = directives(unit)
    assert found["User"] == ["sealdrop"]
    assert found["ProtectSystem"] == ["strict"]
    assert found["ReadWritePaths"] == ["/var/lib/sealdrop"]
    for name in ("ProtectHome", "PrivateTmp", "NoNewPrivileges", "PrivateDevices"):
        assert found[name] == ["yes"], name
    assert found["RestrictAddressFamilies"] == ["AF_UNIX AF_INET AF_INET6"]
    assert found["IPAddressAllow"] == ["localhost"]
    assert found["EnvironmentFile"] == ["/etc/sealdrop/sealdrop.env"]


@pytest.mark.skipif(SYSTEMD_ANALYZE is None, reason="systemd-analyze is not installed")
def test_systemd_accepts_the_units(tmp_path: Path) -> None:
    result = subprocess.run(
        [SYSTEMD_ANALYZE, "verify", *map(str, runnable_copies(tmp_path))],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0 and result.stdout + result.stderr == ""


@pytest.mark.skipif(SYSTEMD_ANALYZE is None, reason="systemd-analyze is not installed")
def test_systemd_scores_the_services_as_locked_down(tmp_path: Path) -> None:
    services = [p for p in runnable_copies(tmp_path) if p.suffix == ".service"]
    result = subprocess.run(
        [SYSTEMD_ANALYZE, "security", "--offline=yes", f"--threshold={MAX_EXPOSURE_X10}"]
        + [str(p) for p in services],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout[-3000:]


def _refuse_write_execute() -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_MDWE, PR_MDWE_REFUSE_EXEC_GAIN, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "PR_SET_MDWE")


def _mdwe_supported() -> bool:
    probe = subprocess.run([sys.executable, "-c", ""], preexec_fn=_refuse_write_execute)
    return probe.returncode == 0


PR_SET_MDWE, PR_MDWE_REFUSE_EXEC_GAIN = 65, 1
SEAL_UNDER_MDWE = """
import mmap, sys, tempfile
from pathlib import Path
try:
    mmap.mmap(-1, 4096, prot=mmap.PROT_READ | mmap.PROT_WRITE | mmap.PROT_EXEC)
    sys.exit("writable+executable memory was allowed: the test proves nothing")
except PermissionError:
    pass
import gunicorn.workers.gthread, psycopg
from intake import create_app
from tests.deploy.helpers import make_deployment, multipart
deployment = make_deployment(Path(tempfile.mkdtemp(dir=sys.argv[1])))
body, content_type = multipart({"message": "hello"}, [("a.bin", "x/y", bytes(300_000))])
client = create_app(deployment.config).test_client()
assert client.post("/submit?lang=en", data=body, content_type=content_type).status_code == 200
"""


@pytest.mark.skipif(not _mdwe_supported(), reason="the kernel has no PR_SET_MDWE (Linux < 6.3)")
def test_the_app_seals_with_write_execute_memory_refused(tmp_path: Path) -> None:
    """The unit sets MemoryDenyWriteExecute=yes; the kernel's equivalent (PR_SET_MDWE) shows
    that PyNaCl, psycopg, gunicorn and the app work under it."""
    result = subprocess.run(
        [sys.executable, "-c", SEAL_UNDER_MDWE, str(tmp_path)],
        preexec_fn=_refuse_write_execute,
        cwd=DEPLOY.parent,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr[-3000:]


def test_the_nginx_drop_in_keeps_bodies_off_the_disk_and_nginx_on_loopback() -> None:
    found = directives(DEPLOY / "systemd" / "nginx.service.d" / "sealdrop.conf")
    assert found["LimitCORE"] == ["0"]  # its memory holds no-JS plaintext in passing
    assert found["TemporaryFileSystem"] == ["/var/lib/nginx:mode=0755"]  # temp dirs in memory
    assert found["ProtectSystem"] == ["strict"]
    assert found["ReadWritePaths"] == ["/var/log/nginx /run"]
    for name in ("ProtectHome", "PrivateTmp", "NoNewPrivileges", "PrivateDevices"):
        assert found[name] == ["yes"], name
    assert found["IPAddressDeny"] == ["any"] and found["IPAddressAllow"] == ["localhost"]


def test_the_socket_for_nginx_is_systemds_and_outlives_the_server() -> None:
    """A socket gunicorn made would vanish on every restart, and nginx would log each request
    that found it missing (issue 17, G6); tests/deploy/test_restart.py runs that path."""
    socket_unit = directives(DEPLOY / "systemd" / "sealdrop-intake.socket")
    assert socket_unit["ListenStream"] == ["/run/sealdrop/gunicorn.sock"]
    assert socket_unit["SocketMode"] == ["0660"] and socket_unit["SocketGroup"] == ["sealdrop"]
    assert socket_unit["RemoveOnStop"] == ["no"]
    service = directives(DEPLOY / "systemd" / "sealdrop-intake.service")
    assert service["Requires"] == ["sealdrop-intake.socket"]
    assert "RuntimeDirectory" not in service  # systemd would delete the socket on every stop
