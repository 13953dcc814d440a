"""The gunicorn part of `sealdrop-intake check`: no access log, loopback only, threads."""

from __future__ import annotations

import runpy
from pathlib import Path
from typing import Any

from .findings import Finding, loopback_bind, ok, problem

GUNICORN_CONFIG = Path("/etc/sealdrop/gunicorn.conf.py")


def load_gunicorn_settings(path: Path) -> dict[str, Any]:
    """The settings gunicorn would use with ``--config path`` (its defaults, then the file)."""
    from gunicorn.config import Config

    cfg = Config()
    namespace = runpy.run_path(str(path))
    for name, value in namespace.items():
        if name in cfg.settings:
            cfg.set(name, value)
    return {name: setting.get() for name, setting in cfg.settings.items()}


def check_gunicorn(path: Path) -> tuple[dict[str, Any], list[Finding]]:
    try:
        settings = load_gunicorn_settings(path)
    except FileNotFoundError:
        return {}, [
            problem(f"no gunicorn configuration at {path}: install deploy/gunicorn.conf.py")
        ]
    except (Exception, SystemExit) as exc:  # the file is Python: any error, in one sentence
        return {}, [problem(f"the gunicorn configuration {path} does not load: {exc}")]
    findings = []
    if settings["accesslog"]:
        findings.append(
            problem(
                f"gunicorn writes an access log ({settings['accesslog']}): set accesslog = None"
            )
        )
    if settings["syslog"] and not settings["disable_redirect_access_to_syslog"]:
        findings.append(problem("gunicorn sends an access log to syslog: set syslog = False"))
    if settings["loglevel"].lower() in ("debug", "info"):
        findings.append(
            problem(f"gunicorn logs at {settings['loglevel']} level: set loglevel = 'warning'")
        )
    for address in settings["bind"]:
        if not loopback_bind(address):
            findings.append(
                problem(
                    f"gunicorn listens on {address}, reachable without Tor: bind 127.0.0.1 only"
                )
            )
    if "sync" in str(settings["worker_class"]).lower():
        findings.append(
            problem("gunicorn uses sync workers: one slow Tor upload blocks a worker; use gthread")
        )
    if settings["reload"]:
        findings.append(problem("gunicorn reloads code on change (development only): remove it"))
    if not settings["control_socket_disable"]:
        findings.append(
            problem("gunicorn opens a control socket: set control_socket_disable = True")
        )
    if not findings:
        findings.append(ok(f"gunicorn ({path}): no access log, listens on loopback only"))
    return settings, findings
