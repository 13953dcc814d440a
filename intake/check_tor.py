"""The Tor part of `sealdrop-intake check`: one v3 onion service with proof-of-work and
circuit ids for nginx, and no other port that would make this server a Tor client or relay."""

from __future__ import annotations

from pathlib import Path

from .findings import Finding, loopback_bind, ok, problem

TORRC = Path("/etc/tor/torrc")
# Debian's tor service reads this first; /etc/tor/torrc overrides it option by option.
TOR_DEFAULTS = Path("/usr/share/tor/tor-service-defaults-torrc")


def read_torrc(text: str) -> list[tuple[str, str]]:
    """(keyword in lower case, value) for each option line, in order, as tor reads them:
    `#` comments, backslash line continuations, keywords case-insensitive."""
    options = []
    logical = ""
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].rstrip() if not logical else raw.rstrip()
        if line.endswith("\\"):
            logical += line[:-1] + " "
            continue
        line, logical = (logical + line).strip(), ""
        if line:
            keyword, _, value = line.partition(" ")
            options.append((keyword.lower(), value.strip()))
    return options


def effective_torrc(torrc: str, defaults: str = "") -> list[tuple[str, str]]:
    """Options from the defaults file that torrc does not set, then torrc's options."""
    own = read_torrc(torrc)
    mentioned = {keyword for keyword, _ in own}
    return [o for o in read_torrc(defaults) if o[0] not in mentioned] + own


_PORTS = {
    "socksport": ("SocksPort", "a SOCKS port (a Tor client for anyone who can reach it)"),
    "transport": ("TransPort", "a transparent proxy port"),
    "natdport": ("NATDPort", "a NATD port"),
    "dnsport": ("DNSPort", "a DNS port"),
    "httptunnelport": ("HTTPTunnelPort", "an HTTP tunnel port"),
    "orport": ("ORPort", "a relay port, which publishes this server's IP address"),
    "dirport": ("DirPort", "a directory port, which publishes this server's IP address"),
    "extorport": ("ExtORPort", "an extended OR port"),
    "metricsport": ("MetricsPort", "a metrics port"),
}
_DANGEROUS_FLAGS = {
    "hiddenservicesinglehopmode": "HiddenServiceSingleHopMode makes the onion service reveal "
    "this server's location",
    "hiddenservicenonanonymousmode": "HiddenServiceNonAnonymousMode makes the onion service "
    "reveal this server's location",
    "bridgerelay": "BridgeRelay turns this tor into a bridge, which publishes its IP address",
    "exitrelay": "ExitRelay turns this tor into an exit relay",
}


def check_tor(
    torrc: Path, defaults: Path | None = TOR_DEFAULTS, targets: list[str] | None = None
) -> list[Finding]:
    """``targets``: where the onion service must forward (nginx's PROXY-protocol listeners)."""
    try:
        text = torrc.read_text(encoding="utf-8")
    except OSError as exc:
        return [problem(f"cannot read the Tor configuration {torrc}: {exc.strerror}")]
    default_text = defaults.read_text(encoding="utf-8") if defaults and defaults.exists() else ""
    options = effective_torrc(text, default_text)
    findings = []
    for keyword, value in options:
        if keyword in _PORTS and not _port_off(value):
            name, what = _PORTS[keyword]
            findings.append(
                problem(f"Tor opens {what} ({name} {value}): add `{name} 0` to {torrc}")
            )
        if keyword == "controlport" and not _port_off(value) and not _loopback_port(value):
            findings.append(problem(f"Tor's control port {value} is not on loopback: remove it"))
        if keyword in _DANGEROUS_FLAGS and value.strip() not in ("0", "auto"):
            findings.append(problem(f"{_DANGEROUS_FLAGS[keyword]}: remove it from {torrc}"))
        if keyword == "safelogging" and value.strip().lower() != "1":
            findings.append(problem("Tor's SafeLogging is off: set `SafeLogging 1`"))
        if keyword == "log" and value.split()[0].lower() in ("debug", "info"):
            findings.append(problem(f"Tor logs at {value.split()[0]} level: use `Log notice`"))
    findings += _check_onion_services(options, torrc, targets or [])
    if not any(not f.ok for f in findings):
        findings.append(ok(f"Tor ({torrc}): one onion service and no other ports"))
    return findings


def _port_off(value: str) -> bool:
    return value.split()[0] in ("0", "") if value.split() else True


def _loopback_port(value: str) -> bool:
    address = value.split()[0]
    if address.startswith("unix:") or address.isdigit() or address == "auto":
        return True  # a bare port number is bound on 127.0.0.1
    return loopback_bind(address)


def _endpoint(address: str) -> str:
    """What must match between tor's target and gunicorn's bind: a socket path or a port."""
    return address.removeprefix("unix:") if address.startswith("unix:") else address.rsplit(":")[-1]


def _check_onion_services(
    options: list[tuple[str, str]], torrc: Path, listeners: list[str]
) -> list[Finding]:
    services: list[dict[str, list[str]]] = []
    for keyword, value in options:
        if keyword == "hiddenservicedir":
            services.append({})
        elif keyword.startswith("hiddenservice") and services:
            services[-1].setdefault(keyword, []).append(value)
    if not services:
        return [problem(f"{torrc} defines no onion service (HiddenServiceDir)")]
    findings = []
    targets = {_endpoint(b) for b in listeners}
    for service in services:
        if service.get("hiddenserviceversion", ["3"])[-1] != "3":
            findings.append(
                problem("the onion service is not version 3: set HiddenServiceVersion 3")
            )
        if service.get("hiddenservicepowdefensesenabled", ["0"])[-1] != "1":
            findings.append(
                problem(
                    "Tor's proof-of-work defence is off: add `HiddenServicePoWDefensesEnabled 1`"
                )
            )
        for port_line in service.get("hiddenserviceport", []):
            virtual, _, target = port_line.partition(" ")
            target = target.strip() or f"127.0.0.1:{virtual}"
            if target.isdigit():
                target = f"127.0.0.1:{target}"
            if not (target.startswith("unix:") or loopback_bind(target)):
                findings.append(
                    problem(f"the onion service forwards to {target}, which is not on loopback")
                )
            elif targets and _endpoint(target) not in targets:
                findings.append(
                    problem(
                        f"the onion service forwards to {target} but nginx's listener for tor "
                        f"is {', '.join(listeners)}"
                    )
                )
        if service.get("hiddenserviceexportcircuitid", [""])[-1].lower() != "haproxy":
            findings.append(
                problem(
                    "Tor does not tell nginx the circuit of each connection, so nothing can be "
                    "limited per circuit: add `HiddenServiceExportCircuitID haproxy`"
                )
            )
        if "hiddenserviceport" not in service:
            findings.append(problem("the onion service has no HiddenServicePort"))
    return findings
