"""`sealdrop-intake check` on nginx: does the front server spool bodies, log access, or lack
the per-circuit limits? It reads /etc/nginx/nginx.conf and what it includes, as nginx would
(comments, quotes, blocks, `include` with globs relative to the main file's directory), and
follows each setting from http to server to location the way nginx inherits it.

The servers it judges are sealdrop's: those with a `listen ... proxy_protocol` (tor's).
"""

from __future__ import annotations

import glob
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

NGINX_CONFIG = Path("/etc/nginx/nginx.conf")
CIRCUIT_KEY = "$proxy_protocol_addr"
MIN_WORKER_CONNECTIONS = 4096
# nginx's defaults (64-bit) for what the checks read.
DEFAULT_BODY_BUFFER = 16 << 10
DEFAULT_MAX_BODY = 1 << 20
# At crit nginx logs a request whose app socket is missing, with its request line.
QUIET_ERROR_LEVELS = ("alert", "emerg")
# nginx holds a buffered body in memory whole: at most this much per connection (issue 17, G10).
MAX_HELD_BODY = 64 << 10
# nginx's own pages for these name nginx and lead nowhere: the site answers them itself
# (deploy/nginx/snippets/sealdrop-errors.conf).
OWN_ERROR_PAGES = ("400", "404", "405", "413", "414", "429", "500", "502", "503", "504")


class NginxConfigError(Exception):
    pass


@dataclass
class Directive:
    name: str
    args: list[str]
    block: list[Directive] | None = None
    source: str = ""

    def children(self, name: str) -> list[Directive]:
        return [d for d in self.block or [] if d.name == name]


_TOKEN = re.compile(
    r"""\s+|\#[^\n]*|(?P<brace>[{};])|"(?P<dq>(?:[^"\\]|\\.)*)"|'(?P<sq>(?:[^'\\]|\\.)*)'"""
    r"""|(?P<word>(?:[^\s{};"'\\]|\\.)+)""",
    re.DOTALL,
)


def _tokens(text: str, source: str) -> Iterator[str | tuple[str]]:
    """Words as str; `{`, `}` and `;` as one-tuples (so a quoted "{" stays a word)."""
    position = 0
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None:
            raise NginxConfigError(f"{source}: cannot read the text at offset {position}")
        position = match.end()
        if match.group("brace"):
            yield (match.group("brace"),)
        elif match.group("dq") is not None:
            yield match.group("dq")
        elif match.group("sq") is not None:
            yield match.group("sq")
        elif match.group("word") is not None:
            yield match.group("word")


def parse(text: str, source: str = "nginx.conf") -> list[Directive]:
    stack: list[list[Directive]] = [[]]
    words: list[str] = []
    for token in _tokens(text, source):
        if isinstance(token, str):
            words.append(token)
            continue
        if token[0] == "{":
            if not words:
                raise NginxConfigError(f"{source}: a block without a name")
            directive = Directive(words[0], words[1:], [], source)
            stack[-1].append(directive)
            stack.append(directive.block)  # type: ignore[arg-type]
        elif token[0] == ";":
            if words:
                stack[-1].append(Directive(words[0], words[1:], None, source))
        else:
            if len(stack) == 1 or words:
                raise NginxConfigError(f"{source}: an unexpected `}}`")
            stack.pop()
        words = []
    if len(stack) != 1 or words:
        raise NginxConfigError(f"{source}: a block or directive is not closed")
    return stack[0]


def load(path: Path = NGINX_CONFIG) -> list[Directive]:
    """The main file with every `include` replaced by what it names."""
    return _expand(parse(path.read_text(encoding="utf-8"), str(path)), path.parent, 0)


def _expand(directives: list[Directive], prefix: Path, depth: int) -> list[Directive]:
    if depth > 10:
        raise NginxConfigError("includes nest more than 10 deep")
    out: list[Directive] = []
    for directive in directives:
        if directive.name == "include" and directive.args:
            pattern = directive.args[0]
            pattern = pattern if pattern.startswith("/") else str(prefix / pattern)
            for name in sorted(glob.glob(pattern)):
                if Path(name).is_file():
                    included = parse(Path(name).read_text(encoding="utf-8"), name)
                    out += _expand(included, prefix, depth + 1)
            continue
        if directive.block is not None:
            directive.block = _expand(directive.block, prefix, depth)
        out.append(directive)
    return out


# --- what the checks read ---------------------------------------------------------------


@dataclass
class Scope:
    """A server or location, with the settings it inherits from the levels above."""

    where: str
    directives: list[Directive]
    parent: Scope | None = None
    locations: list[Scope] = field(default_factory=list)

    def own(self, name: str) -> list[Directive]:
        return [d for d in self.directives if d.name == name]

    def effective(self, name: str) -> list[Directive]:
        """The level's own directives of that name, else the nearest level above that has
        some (nginx's inheritance for array-like settings such as limit_req)."""
        scope: Scope | None = self
        while scope is not None:
            found = scope.own(name)
            if found:
                return found
            scope = scope.parent
        return []

    def value(self, name: str, default: str | None = None) -> str | None:
        found = self.effective(name)
        return " ".join(found[-1].args) if found else default


def _locations(scope: Scope) -> Iterator[Scope]:
    for directive in scope.directives:
        if directive.name == "location" and directive.block is not None:
            location = Scope(f"location {' '.join(directive.args)}", directive.block, scope)
            scope.locations.append(location)
            yield location
            yield from _locations(location)


def size(text: str | None, default: int) -> int:
    if text is None:
        return default
    match = re.fullmatch(r"(\d+)([kKmMgG]?)", text.strip())
    if not match:
        return default
    return int(match.group(1)) << {"": 0, "k": 10, "m": 20, "g": 30}[match.group(2).lower()]


@dataclass
class Findings:
    problems: list[str] = field(default_factory=list)
    proxy_listens: list[str] = field(default_factory=list)
    upstream_sockets: list[str] = field(default_factory=list)
    # The largest body nginx lets through to each location, by the location's arguments
    # (for example "= /submit"), to compare with the app's own limits.
    body_limits: dict[str, int] = field(default_factory=dict)


def inspect(config: list[Directive]) -> Findings:
    """Problems (sentences) in a loaded configuration, and where tor and gunicorn must meet it."""
    found = Findings()
    http = next((d for d in config if d.name == "http" and d.block is not None), None)
    if http is None:
        found.problems.append("nginx's configuration has no http block")
        return found
    _check_workers(config, found)
    http_scope = Scope("http", http.block or [])
    circuit_zones = {
        arg.split("=", 1)[1].split(":")[0]
        for d in http_scope.directives
        if d.name in ("limit_conn_zone", "limit_req_zone") and d.args and d.args[0] == CIRCUIT_KEY
        for arg in d.args
        if arg.startswith("zone=")
    }
    for upstream in http_scope.own("upstream"):
        for server in upstream.children("server"):
            if server.args and server.args[0].startswith("unix:"):
                found.upstream_sockets.append(server.args[0])
    servers = [
        Scope(f"server {' '.join(_listen_addresses(d))}", d.block or [], http_scope)
        for d in http_scope.own("server")
        if any("proxy_protocol" in listen.args for listen in d.children("listen"))
    ]
    if not servers:
        found.problems.append(
            "nginx has no listener for tor (`listen 127.0.0.1:8030 proxy_protocol`): enable "
            "the sealdrop site (docs/ADMIN.md)"
        )
    for server in servers:
        for listen in server.own("listen"):
            if "proxy_protocol" in listen.args:
                found.proxy_listens.append(listen.args[0])
        _check_server(server, circuit_zones, found)
    return found


def _listen_addresses(server: Directive) -> list[str]:
    return [listen.args[0] for listen in server.children("listen") if listen.args]


def _check_workers(config: list[Directive], found: Findings) -> None:
    events = next((d for d in config if d.name == "events"), None)
    connections = events.children("worker_connections") if events else []
    count = int(connections[-1].args[0]) if connections and connections[-1].args else 512
    if count < MIN_WORKER_CONNECTIONS:
        found.problems.append(
            f"nginx accepts only {count} connections per worker, which a few hundred idle "
            f"connections fill: set `worker_connections {MIN_WORKER_CONNECTIONS};` in the "
            "events block of /etc/nginx/nginx.conf"
        )


def _check_server(server: Scope, circuit_zones: set[str], found: Findings) -> None:
    locations = list(_locations(server))
    proxying = [loc for loc in locations if loc.effective("proxy_pass")]
    where = server.where
    level = (server.value("error_log") or "logs/error.log error").split()
    if len(level) < 2 or level[1] not in QUIET_ERROR_LEVELS:
        found.problems.append(
            f"nginx's error log for {where} records requests ({' '.join(level)}): set "
            "`error_log /var/log/nginx/sealdrop-error.log alert;` in the server"
        )
    answered = {code for d in server.effective("error_page") for code in d.args[:-1]}
    missing = [code for code in OWN_ERROR_PAGES if code not in answered]
    if missing:
        found.problems.append(
            f"nginx answers {', '.join(missing)} in {where} with its own pages, which name "
            "nginx and lead nowhere: `include snippets/sealdrop-errors.conf;` in the server"
        )
    for scope in [server, *locations]:
        access = scope.value("access_log", "logs/access.log")
        if access != "off":
            found.problems.append(
                f"nginx logs access in {scope.where} ({access}): set `access_log off;`"
            )
            break
    _check_compression(server, locations, found)
    if not any(_zone(d) in circuit_zones for d in server.effective("limit_conn")) and not all(
        any(_zone(d) in circuit_zones for d in loc.effective("limit_conn")) for loc in proxying
    ):
        found.problems.append(
            f"nginx does not limit connections per Tor circuit in {where}: add a "
            f"`limit_conn_zone {CIRCUIT_KEY} ...` and `limit_conn` (deploy/nginx/)"
        )
    for scope in proxying or [server]:
        if not any(_zone(d) in circuit_zones for d in scope.effective("limit_req")):
            found.problems.append(
                f"nginx does not limit requests per Tor circuit in {where}, {scope.where}: add "
                f"a `limit_req_zone {CIRCUIT_KEY} ...` and `limit_req` (deploy/nginx/)"
            )
    for scope in proxying:
        _check_spooling(scope, found)
        where_args = scope.where.removeprefix("location ")
        found.body_limits[where_args] = size(scope.value("client_max_body_size"), DEFAULT_MAX_BODY)


def _check_compression(server: Scope, locations: list[Scope], found: Findings) -> None:
    """nginx must compress nothing (Debian's nginx.conf says `gzip on`): a page with a codename
    or a person's words must never be compressed (BREACH; intake/compress.py)."""
    for scope in [server, *locations]:
        if scope.value("gzip", "off") != "off":
            found.problems.append(
                f"nginx compresses pages in {scope.where}, those with a codename too (a "
                "compression side channel): set `gzip off;` in the server"
            )
            return


def _zone(directive: Directive) -> str:
    if directive.name == "limit_conn":
        return directive.args[0] if directive.args else ""
    return next((a.split("=", 1)[1] for a in directive.args if a.startswith("zone=")), "")


def _check_spooling(scope: Scope, found: Findings) -> None:
    if scope.value("client_body_in_file_only", "off") != "off":
        found.problems.append(
            f"nginx writes every request body to a file in {scope.where}: remove "
            "client_body_in_file_only"
        )
        return
    buffered = scope.value("proxy_request_buffering", "on") == "on"
    largest = size(scope.value("client_max_body_size"), DEFAULT_MAX_BODY)
    buffer = size(scope.value("client_body_buffer_size"), DEFAULT_BODY_BUFFER)
    if buffered and (largest == 0 or largest >= buffer):
        found.problems.append(
            f"nginx spools request bodies to disk in {scope.where} (bodies up to "
            f"{scope.value('client_max_body_size') or '1m'} are buffered, in memory only up to "
            f"{scope.value('client_body_buffer_size') or '16k'}): set "
            "`proxy_request_buffering off;` there"
        )
    if buffered and largest > MAX_HELD_BODY:
        found.problems.append(
            f"nginx holds request bodies of up to {scope.value('client_max_body_size') or '1m'}"
            f" whole in memory in {scope.where}, which a crowd of slow senders multiplies: keep "
            "`client_max_body_size` there at 64k or less, or set `proxy_request_buffering off;`"
        )
    if (
        scope.value("proxy_buffering", "on") == "on"
        and size(scope.value("proxy_max_temp_file_size"), 1) != 0
    ):
        found.problems.append(
            f"nginx may write replies to disk in {scope.where}: set `proxy_max_temp_file_size 0;`"
        )
