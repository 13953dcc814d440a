"""`sealdrop-intake check` on nginx: the shipped files pass; a config that spools bodies,
logs access, or lacks the per-circuit limits is named. And the shipped files agree with the
app (its security headers) and are accepted by nginx itself."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from intake import check_nginx
from intake.check import check_nginx_config
from intake.web import HEADERS
from tests.support.stack import NGINX, write_nginx_config

from .nginx_files import NGINX_DEPLOY, install_nginx_config

SOCKET = ["unix:/run/sealdrop/gunicorn.sock"]


@pytest.fixture
def nginx(tmp_path: Path) -> Path:
    return install_nginx_config(tmp_path / "etc-nginx")


def problems(main: Path, bind: list[str] = SOCKET) -> list[str]:
    findings, _ = check_nginx_config(main, bind)
    return [f.message for f in findings if not f.ok]


def edit(path: Path, pattern: str, replacement: str) -> None:
    text, count = re.subn(pattern, replacement, path.read_text(), count=1, flags=re.MULTILINE)
    assert count == 1, f"{pattern!r} not found in {path}"
    path.write_text(text)


def test_the_shipped_nginx_files_pass_and_name_tors_listener(nginx: Path) -> None:
    findings, listeners = check_nginx_config(nginx, SOCKET)
    assert [f.message for f in findings if not f.ok] == []
    assert listeners == ["127.0.0.1:8030"]


SITE = "sites-available/sealdrop"
LIMITS = "conf.d/sealdrop-limits.conf"


@pytest.mark.parametrize(
    ("file", "pattern", "replacement", "problem"),
    [
        (SITE, r"^    access_log off;$", "", "logs access in server"),
        (SITE, r"^    gzip off;$", "", "nginx compresses pages in server"),
        (
            SITE,
            r"^    access_log off;$",
            "access_log off;\nlocation /x { access_log /a; proxy_pass http://u; }",
            "logs access in location /x",
        ),
        (
            SITE,
            r"proxy_request_buffering off;",
            "",
            "spools request bodies to disk in location = /submit",
        ),
        (
            SITE,
            r"client_body_buffer_size 16k;",
            "client_body_buffer_size 4k;",
            "spools request bodies to disk in location /",
        ),
        (
            SITE,
            r"client_body_in_file_only off;",
            "client_body_in_file_only clean;",
            "writes every request body to a file",
        ),
        (
            "snippets/sealdrop-proxy.conf",
            r"^proxy_max_temp_file_size 0;$",
            "",
            "write replies to disk",
        ),
        (
            SITE,
            r"^    limit_conn sealdrop_circuit_conn 16;$",
            "",
            "limit connections per Tor circuit",
        ),
        (
            LIMITS,
            r"^limit_conn_zone \$proxy_protocol_addr",
            "limit_conn_zone $binary_remote_addr",
            "limit connections per Tor circuit",
        ),
        (
            LIMITS,
            r"^limit_req_zone \$proxy_protocol_addr zone=sealdrop_circuit_req",
            "limit_req_zone $server_name zone=sealdrop_circuit_req",
            "limit requests per Tor circuit in server 127.0.0.1:8030 127.0.0.1:8080, location /",
        ),
        (SITE, r" proxy_protocol default_server;", " default_server;", "no listener for tor"),
        (SITE, r"^    error_log (\S+) alert;", r"    error_log \1 info;", "records requests"),
        (SITE, r"^    error_log (\S+) alert;", r"    error_log \1 crit;", "records requests"),
        (
            SITE,
            r"^    include snippets/sealdrop-errors.conf;$",
            "",
            "with its own pages, which name nginx",
        ),
        (
            SITE,
            r"client_max_body_size 64k;",
            "client_max_body_size 1m;",
            "holds request bodies of up to 1m whole in memory in location = /sealdrop-held/submit",
        ),
        (SITE, r"^    error_log .*$", "", "records requests"),
        (
            SITE,
            r"unix:/run/sealdrop/gunicorn.sock",
            "unix:/run/elsewhere.sock",
            "gunicorn listens on",
        ),
    ],
)
def test_a_leaky_or_unlimited_nginx_is_named(
    nginx: Path, file: str, pattern: str, replacement: str, problem: str
) -> None:
    edit(nginx.parent / file, pattern, replacement)
    found = problems(nginx)
    assert any(problem in p for p in found), found


def test_debian_default_worker_connections_are_too_few(tmp_path: Path) -> None:
    main = install_nginx_config(tmp_path / "etc-nginx", connections=768)
    assert problems(main) == [
        "nginx accepts only 768 connections per worker, which a few hundred idle connections "
        "fill: set `worker_connections 4096;` in the events block of /etc/nginx/nginx.conf"
    ]


def test_a_missing_or_unreadable_nginx_config_is_one_problem(tmp_path: Path) -> None:
    assert "install nginx" in problems(tmp_path / "nowhere.conf")[0]
    broken = tmp_path / "nginx.conf"
    broken.write_text("http { server { listen 80; }")
    assert problems(broken) == [
        f"cannot read nginx's configuration {broken}: {broken}: a block or directive is not closed"
    ]


def test_the_parser_keeps_quoted_braces_and_semicolons_as_words() -> None:
    parsed = check_nginx.parse("a \"x;{y}\" 'z w'; # c { ;\nb { c d; }")
    assert [(d.name, d.args) for d in parsed] == [("a", ["x;{y}", "z w"]), ("b", [])]
    assert [(d.name, d.args) for d in parsed[1].block or []] == [("c", ["d"])]


def test_nginx_sends_the_apps_security_headers() -> None:
    snippet = (NGINX_DEPLOY / "snippets" / "sealdrop-headers.conf").read_text()
    added = dict(re.findall(r'^add_header (\S+) "(.*)" always;$', snippet, re.MULTILINE))
    hidden = re.findall(r"^proxy_hide_header (\S+);$", snippet, re.MULTILINE)
    assert added == HEADERS
    assert sorted(hidden) == sorted(HEADERS)


def test_nginx_accepts_the_shipped_files(tmp_path: Path) -> None:
    main = write_nginx_config(tmp_path, 8030, 8080, tmp_path / "gunicorn.sock")
    result = subprocess.run(
        [NGINX, "-t", "-q", "-p", str(tmp_path), "-c", str(main), "-e", "stderr"],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
