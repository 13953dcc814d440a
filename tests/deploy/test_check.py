"""`sealdrop-intake check` on the shipped deploy files (no problem) and on broken ones (each
problem named)."""

from __future__ import annotations

import os
import pwd
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from intake.check import command, run_checks
from intake.setup import downgrade, init_data_dir

from .helpers import GUNICORN_CONF, TORRC, Deployment, make_deployment
from .nginx_files import install_nginx_config

ME = pwd.getpwuid(os.geteuid()).pw_name
# What Debian's tor service reads before /etc/tor/torrc (tor-service-defaults-torrc).
DEBIAN_TOR_DEFAULTS = """\
DataDirectory /var/lib/tor
User debian-tor
ControlSocket /run/tor/control GroupWritable RelaxDirModeCheck
SocksPort unix:/run/tor/socks WorldWritable
SocksPort 9050
CookieAuthentication 1
Log notice syslog
"""


@pytest.fixture
def site(tmp_path: Path) -> Deployment:
    deployment = make_deployment(tmp_path / "site")
    deployment.env["SEALDROP_STORAGE_BUDGET_BYTES"] = str(1 << 30)
    return deployment


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    paths = {
        "gunicorn": tmp_path / "gunicorn.conf.py",
        "torrc": tmp_path / "torrc",
        "defaults": tmp_path / "tor-service-defaults-torrc",
        "swaps": tmp_path / "swaps",  # this machine's swap is not what these tests are about
    }
    paths["swaps"].write_text("Filename\tType\tSize\tUsed\tPriority\n")
    paths["gunicorn"].write_text(GUNICORN_CONF.read_text())
    paths["torrc"].write_text(TORRC.read_text())
    paths["defaults"].write_text(DEBIAN_TOR_DEFAULTS)
    paths["nginx"] = install_nginx_config(tmp_path / "etc-nginx")
    return paths


def check(site: Deployment, files: dict[str, Path], **config: object) -> list[str]:
    """The problems found, as sentences."""
    findings = run_checks(
        {**site.config, **config},
        gunicorn_config=files["gunicorn"],
        torrc=files["torrc"],
        tor_defaults=files["defaults"],
        owner=ME,
        swaps=files["swaps"],
        nginx_config=files["nginx"],
    )
    return [f.message for f in findings if not f.ok]


def edit(path: Path, pattern: str, replacement: str) -> None:
    text, count = re.subn(pattern, replacement, path.read_text(), flags=re.MULTILINE)
    assert count == 1, f"{pattern!r} not found in {path}"
    path.write_text(text)


def test_the_shipped_deploy_files_and_a_fresh_data_dir_pass(
    site: Deployment, files: dict[str, Path]
) -> None:
    findings = run_checks(
        site.config,
        gunicorn_config=files["gunicorn"],
        torrc=files["torrc"],
        tor_defaults=files["defaults"],
        owner=ME,
        swaps=files["swaps"],
        nginx_config=files["nginx"],
    )
    assert [f.message for f in findings if not f.ok] == []
    text = "\n".join(str(f) for f in findings)
    assert site.identity.public_key.fingerprint in text
    assert "database schema is up to date" in text
    assert "the mailbox salt is in place" in text


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        ("accesslog = '-'", "access log"),
        ("accesslog = '/var/log/sealdrop/access.log'", "access log"),
        ("syslog = True", "access log to syslog"),
        ("loglevel = 'debug'", "debug level"),
        ("bind = ['0.0.0.0:8031']", "0.0.0.0:8031, reachable without Tor"),
        ("bind = ['127.0.0.1:8031', '[::]:8031']", "[::]:8031, reachable without Tor"),
        ("bind = ['192.0.2.7:8031']", "192.0.2.7:8031"),
        ("worker_class = 'sync'", "sync workers"),
        ("control_socket_disable = False", "control socket"),
        ("reload = True", "reloads code"),
        ("raise SystemExit('broken')", "does not load"),
    ],
)
def test_leaky_gunicorn_settings_are_named(
    site: Deployment, files: dict[str, Path], line: str, problem: str
) -> None:
    files["gunicorn"].write_text(files["gunicorn"].read_text() + f"\n{line}\n")
    problems = check(site, files)
    assert len(problems) == 1 and problem in problems[0], problems


@pytest.mark.parametrize(
    ("pattern", "replacement", "problem"),
    [
        (r"^SocksPort 0$", "", "SOCKS port (a Tor client"),  # Debian's defaults open 9050
        (r"^SocksPort 0$", "SocksPort 127.0.0.1:9050", "SocksPort 127.0.0.1:9050"),
        (r"^ORPort 0$", "ORPort 9001", "publishes this server's IP address"),
        (r"^DirPort 0$", "DirPort 9030", "publishes this server's IP address"),
        (r"^SafeLogging 1$", "SafeLogging 0", "SafeLogging is off"),
        (r"^Log notice syslog$", "Log info file /var/log/tor/info.log", "info level"),
        (r"^ExitRelay 0$", "ExitRelay 1", "exit relay"),
        (r"^HiddenServicePoWDefensesEnabled 1$", "", "proof-of-work defence is off"),
        (
            r"^HiddenServicePoWDefensesEnabled 1$",
            "HiddenServicePoWDefensesEnabled 0",
            "proof-of-work defence is off",
        ),
        (r"^HiddenServicePort .*$", "HiddenServicePort 80 192.0.2.7:8031", "not on loopback"),
        (r"^HiddenServicePort .*$", "HiddenServicePort 80 127.0.0.1:9999", "nginx's listener"),
        (r"^HiddenServiceExportCircuitID haproxy$", "", "limited per circuit"),
        (r"^HiddenServiceDir .*$", "", "no onion service"),
        (r"^SafeLogging 1$", "ControlPort 0.0.0.0:9051\nSafeLogging 1", "control port"),
        (r"^SafeLogging 1$", "MetricsPort 127.0.0.1:9035\nSafeLogging 1", "metrics port"),
        (
            r"^HiddenServiceDir .*$",
            "HiddenServiceNonAnonymousMode 1\nHiddenServiceDir /var/lib/tor/sealdrop/",
            "reveal this server's location",
        ),
    ],
)
def test_leaky_tor_settings_are_named(
    site: Deployment, files: dict[str, Path], pattern: str, replacement: str, problem: str
) -> None:
    edit(files["torrc"], pattern, replacement)
    problems = check(site, files)
    assert any(problem in p for p in problems), problems


def test_nginx_refusing_what_the_app_accepts_is_a_problem(
    site: Deployment, files: dict[str, Path]
) -> None:
    assert check(site, files, MAX_SUBMISSION_BYTES=str(2 << 30)) == []
    problems = check(site, files, MAX_SUBMISSION_BYTES=str(3 << 30))
    assert problems == [
        "nginx refuses bodies over 2202009600 bytes in location = /submit, less than "
        "SEALDROP_MAX_SUBMISSION_BYTES (3221225472): raise client_max_body_size there"
    ]


def test_a_private_key_among_the_recipients_is_a_problem(
    site: Deployment, files: dict[str, Path]
) -> None:
    key_file = Path(site.env["SEALDROP_RECIPIENTS"])
    key_file.write_text(site.identity.to_file_text("pass", opslimit=1, memlimit=8192))
    problems = check(site, files)
    assert any("contains a private key" in p for p in problems), problems


def test_a_recipient_key_others_can_replace_is_a_problem(
    site: Deployment, files: dict[str, Path]
) -> None:
    Path(site.env["SEALDROP_RECIPIENTS"]).chmod(0o666)
    problems = check(site, files)
    assert len(problems) == 1 and "others can change the reviewer key" in problems[0]


def test_a_missing_or_broken_recipient_key_is_a_problem(
    site: Deployment, files: dict[str, Path], tmp_path: Path
) -> None:
    problems = check(site, files, RECIPIENTS=str(tmp_path / "nobody.pub"))
    assert len(problems) == 1 and "nobody.pub" in problems[0]
    broken = tmp_path / "broken.pub"
    broken.write_text(site.identity.public_key.line[:-1] + "x\n")
    problems = check(site, files, RECIPIENTS=str(broken))
    assert len(problems) == 1 and "broken.pub" in problems[0]


def test_a_data_dir_others_can_read_is_a_problem(site: Deployment, files: dict[str, Path]) -> None:
    blobs = Path(site.env["SEALDROP_DATA_DIR"]) / "blobs"
    blobs.chmod(0o755)
    problems = check(site, files)
    assert len(problems) == 1 and "chmod 700" in problems[0] and str(blobs) in problems[0]


def test_a_data_dir_owned_by_someone_else_is_a_problem(
    site: Deployment, files: dict[str, Path]
) -> None:
    findings = run_checks(
        site.config,
        gunicorn_config=files["gunicorn"],
        torrc=files["torrc"],
        tor_defaults=files["defaults"],
        owner="nobody",
        swaps=files["swaps"],
        nginx_config=files["nginx"],
    )
    problems = [f.message for f in findings if not f.ok]
    assert problems and all("not owned by nobody" in p for p in problems)


def test_a_missing_data_dir_is_one_problem(
    site: Deployment, files: dict[str, Path], tmp_path: Path
) -> None:
    problems = check(site, files, DATA_DIR=str(tmp_path / "nowhere"))
    assert len(problems) == 1 and "sealdrop-intake init" in problems[0]


def test_an_unmigrated_database_is_a_problem(site: Deployment, files: dict[str, Path]) -> None:
    from intake.config import load

    downgrade(load(site.config), "base")
    problems = check(site, files)
    assert len(problems) == 1 and "no sealdrop tables" in problems[0]
    init_data_dir(site.config)
    assert check(site, files) == []


def test_a_missing_mailbox_salt_is_a_problem_init_repairs(
    site: Deployment, files: dict[str, Path]
) -> None:
    salt = Path(site.env["SEALDROP_DATA_DIR"]) / "mailbox-salt"
    salt.unlink()
    problems = check(site, files)
    assert len(problems) == 1 and "sealdrop-intake init" in problems[0]
    init_data_dir(site.config)
    assert check(site, files) == [] and len(salt.read_text().strip()) == 32


def test_storage_without_a_budget_or_nearly_full_is_a_problem(
    site: Deployment, files: dict[str, Path]
) -> None:
    problems = check(site, files, STORAGE_BUDGET_BYTES="")
    assert len(problems) == 1 and "no storage budget" in problems[0]
    blob = Path(site.env["SEALDROP_DATA_DIR"]) / "blobs" / "x.sdenv"
    blob.write_bytes(b"\0" * 950)
    problems = check(site, files, STORAGE_BUDGET_BYTES="1000")
    assert len(problems) == 1 and "95% full" in problems[0]


def test_the_command_exits_non_zero_on_a_problem_and_prints_sentences(
    site: Deployment, files: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in site.env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr("intake.check.TOR_DEFAULTS", files["defaults"])
    monkeypatch.setattr("intake.check.SERVICE_USER", ME)
    monkeypatch.setattr("intake.check.check_swap", lambda swaps: [])
    args = ["--gunicorn-config", str(files["gunicorn"]), "--torrc", str(files["torrc"])]
    args += ["--nginx-config", str(files["nginx"])]
    result = CliRunner().invoke(command, args)
    assert result.exit_code == 0, result.output
    assert "everything checked is fine" in result.output

    edit(files["torrc"], r"^SocksPort 0$", "")
    result = CliRunner().invoke(command, [*args, "--quiet"])
    assert result.exit_code == 1
    assert result.output.startswith("PROBLEM: Tor opens a SOCKS port")
    assert "ok:" not in result.output


def test_sealdrop_intake_has_the_check_command() -> None:
    from intake.cli import main

    result = CliRunner().invoke(main, ["check", "--help"])
    assert result.exit_code == 0 and "--torrc" in result.output


def test_unencrypted_swap_is_a_problem_and_encrypted_swap_is_not(tmp_path: Path) -> None:
    from intake.check import check_swap

    swaps, sys_block = tmp_path / "swaps", tmp_path / "block"
    header = "Filename\tType\tSize\tUsed\tPriority\n"
    swaps.write_text(header)
    assert [f.ok for f in check_swap(swaps, sys_block)] == [True]
    (sys_block / "dm-1" / "dm").mkdir(parents=True)
    (sys_block / "dm-1" / "dm" / "uuid").write_text("CRYPT-PLAIN-swap\n")
    swaps.write_text(header + "/dev/dm-1\tpartition\t1048572\t0\t-2\n")
    assert [f.ok for f in check_swap(swaps, sys_block)] == [True]
    swaps.write_text(header + "/dev/vda3\tpartition\t1048572\t0\t-2\n/swapfile\tfile\t1\t0\t-3\n")
    findings = check_swap(swaps, sys_block)
    assert [f.ok for f in findings] == [False, False]
    assert "/dev/vda3 is not encrypted" in findings[0].message
    assert check_swap(tmp_path / "unreadable", sys_block) == []
