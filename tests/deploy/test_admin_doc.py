"""docs/ADMIN.md against the code: the commands it gives exist, the paths it installs to are
the ones the units, the check and the wrapper use, and its routine (init, check, export,
purge) works through deploy/sealdrop-admin."""

from __future__ import annotations

import os
import pwd
import re
import shlex
import subprocess
import sys
from pathlib import Path

from crypto import Identity
from intake import check, create_app
from intake.cli import main
from tests.intake.helpers import open_bundle

from .helpers import DEPLOY, GUNICORN_CONF, REPO, TORRC, as_submission, multipart
from .nginx_files import install_nginx_config

DOC = REPO / "docs" / "ADMIN.md"
ME = pwd.getpwuid(os.geteuid()).pw_name


def doc_commands(program: str) -> list[list[str]]:
    blocks = re.findall(r"```sh\n(.*?)```", DOC.read_text(), re.DOTALL)
    found = []
    for block in blocks:
        for line in block.splitlines():
            line = line.split(" #")[0].strip()
            if line.startswith(program + " "):
                found.append(shlex.split(line)[1:])
    inline = re.findall(rf"`{program} ([^`]*)`", DOC.read_text())
    return found + [shlex.split(text) for text in inline]


def test_every_sealdrop_admin_command_in_the_guide_exists_with_its_options() -> None:
    commands = doc_commands("sealdrop-admin")
    assert {args[0] for args in commands} >= {"init", "check", "export", "purge"}
    for args in commands:
        assert args[0] in main.commands, args
        options = {opt for param in main.commands[args[0]].params for opt in param.opts}
        for arg in args[1:]:
            if arg.startswith("--"):
                assert arg in options, args


def test_the_guide_installs_every_deploy_file_where_the_code_expects_it() -> None:
    text = DOC.read_text()
    shipped = [p.relative_to(DEPLOY) for p in DEPLOY.rglob("*") if p.is_file()]
    for path in shipped:
        if "__pycache__" not in path.parts:
            assert str(path) in text, f"docs/ADMIN.md never installs deploy/{path}"
    unit = (DEPLOY / "systemd" / "sealdrop-intake.service").read_text()
    wrapper = (DEPLOY / "sealdrop-admin").read_text()
    expected = {
        str(check.GUNICORN_CONFIG): [unit],
        str(check.TORRC): [],
        "/etc/sealdrop/sealdrop.env": [unit, wrapper],
        "/opt/sealdrop/venv/bin/sealdrop-intake": [unit, wrapper],
        "/var/lib/sealdrop": [unit, (DEPLOY / "sealdrop.env").read_text()],
        "/var/lib/tor/sealdrop/": [TORRC.read_text()],
    }
    for path, users in expected.items():
        assert path in text or path.startswith("/opt/sealdrop/venv/"), path
        for user in users:
            assert path in user
    assert "/opt/sealdrop/venv" in text and "/var/lib/tor/sealdrop/hostname" in text


def test_the_routine_works_through_sealdrop_admin(tmp_path: Path) -> None:
    identity = Identity.generate()
    key = tmp_path / "alice.pub"
    key.write_text(f"# alice\n{identity.public_key.line}\n")
    data = tmp_path / "data"
    data.mkdir(mode=0o700)
    env_text = (DEPLOY / "sealdrop.env").read_text()
    env_text = env_text.replace("=/var/lib/sealdrop", f"={data}")
    env_text = env_text.replace("=/etc/sealdrop/recipients/reviewer1.pub", f"={key}")
    env_file = tmp_path / "sealdrop.env"
    env_file.write_text(env_text)
    env = {
        **os.environ,
        "SEALDROP_ENV_FILE": str(env_file),
        "SEALDROP_INTAKE": str(Path(sys.executable).parent / "sealdrop-intake"),
        "SEALDROP_USER": ME,
    }

    def admin(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(DEPLOY / "sealdrop-admin"), *args], env=env, capture_output=True, text=True
        )

    result = admin("init")
    assert result.returncode == 0 and identity.public_key.fingerprint in result.stdout
    nginx = install_nginx_config(tmp_path / "etc-nginx")
    checked = admin(
        "check",
        "--gunicorn-config",
        str(GUNICORN_CONF),
        "--torrc",
        str(TORRC),
        "--owner",
        ME,
        "--nginx-config",
        str(nginx),
    )
    # The only problem allowed is this test machine's own swap, if it has unencrypted swap.
    problems = [line for line in checked.stdout.splitlines() if line.startswith("PROBLEM")]
    assert all("swap on" in line for line in problems), checked.stdout
    assert checked.returncode == (1 if problems else 0), checked.stdout + checked.stderr

    config = {
        "DATA_DIR": str(data),
        "RECIPIENTS": str(key),
        "DATABASE_URL": f"sqlite:///{data / 'sealdrop.db'}",
    }
    body, content_type = multipart({"message": "through the admin's routine"}, [])
    client = create_app(config).test_client()
    assert client.post("/submit?lang=en", data=body, content_type=content_type).status_code == 200

    bundle = tmp_path / "export.sdbundle"
    exported = admin("export", "--out", str(bundle))
    assert exported.returncode == 0 and "exported 1 submission" in exported.stdout
    assert [as_submission(c) for c in open_bundle(bundle, identity)] == [
        ("through the admin's routine", [])
    ]
    purged = admin("purge", "--all-exported")
    assert purged.returncode == 0 and "deleted 1" in purged.stdout
    assert list((data / "blobs").iterdir()) == []
