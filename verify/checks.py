"""What `sealdrop-verify` checks, one line each: the statement's signature and address, that
every page loads only signed assets under a policy that allows no other script, that the pages
seal to exactly the signed reviewer keys, and that every signed asset is served byte for byte
(plain and gzip-encoded, as Tor Browser asks for it)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from html.parser import HTMLParser

from crypto import PublicKey, SealdropError
from crypto.deployment import Statement, sha256_hex
from crypto.signing import SigningPublicKey

from .fetch import FetchError, Response, get

STATEMENT_PATH = "/.well-known/sealdrop-deployment"
PAGES = ("/", "/replies", "/sent")
OPTIONAL_PAGES = ("/replies",)  # a service may run without follow-up replies
CONFIG_API = "/api/v1/config"
STATIC_PREFIX = "/static/"
_FINGERPRINT = re.compile(r"\b[0-9a-f]{4}(?: [0-9a-f]{4}){7}\b")

OK, FAIL, ERROR = "ok", "FAIL", "ERROR"


@dataclass(frozen=True)
class Line:
    status: str  # OK; FAIL: served something other than what was signed; ERROR: unreachable
    text: str

    def __str__(self) -> str:
        return f"{self.status}: {self.text}"


class _Page(HTMLParser):
    """The resources a page makes the browser load, its inline scripts and its config."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.loads: list[str] = []
        self.inline_scripts = 0
        self.config_text: str | None = None
        self._in_config = False
        self._in_script = False
        self._script_text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        if tag == "script":
            if "src" in values:
                self.loads.append(values["src"])
            elif values.get("type") == "application/json":
                self._in_config = values.get("id") == "sealdrop-config"
            else:
                self._in_script = True
        elif tag == "link" and "href" in values:
            self.loads.append(values["href"])
        elif tag in ("img", "iframe", "embed", "source", "audio", "video") and "src" in values:
            self.loads.append(values["src"])
        elif tag == "object" and "data" in values:
            self.loads.append(values["data"])

    def handle_data(self, data: str) -> None:
        if self._in_config:
            self._script_text.append(data)
        elif self._in_script and data.strip():
            self.inline_scripts += 1

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            if self._in_config:
                self.config_text = "".join(self._script_text)
            self._in_config = self._in_script = False
            self._script_text = []


def _csp_problem(policy: str) -> str | None:
    directives = {}
    for part in policy.split(";"):
        words = part.split()
        if words:
            directives[words[0].lower()] = words[1:]
    script = directives.get("script-src", directives.get("default-src"))
    if script != ["'self'"]:
        return f"its Content-Security-Policy lets scripts come from {script or 'anywhere'}"
    worker = directives.get("worker-src", script)
    if worker != ["'self'"]:
        return f"its Content-Security-Policy lets workers come from {worker}"
    return None


def _fingerprints(lines: object) -> set[str]:
    if not isinstance(lines, list):
        raise ValueError("no list of recipients")
    return {PublicKey.from_line(str(line)).fingerprint for line in lines}


class Verifier:
    def __init__(
        self,
        host: str,
        port: int,
        key: SigningPublicKey,
        proxy: tuple[str, int] | None,
        timeout: float,
    ) -> None:
        self.host, self.port, self.key, self.proxy, self.timeout = host, port, key, proxy, timeout

    def _get(self, path: str, *, gzip_ok: bool = True) -> Response:
        return get(self.host, self.port, path, self.proxy, gzip_ok=gzip_ok, timeout=self.timeout)

    def run(self) -> Iterator[Line]:
        try:
            response = self._get(STATEMENT_PATH)
        except FetchError as exc:
            yield Line(ERROR, f"statement: cannot fetch it ({exc})")
            return
        if response.status != 200:
            yield Line(
                FAIL, f"statement: {STATEMENT_PATH} answered HTTP {response.status}, not the file"
            )
            return
        try:
            statement = Statement.verify(response.body, self.key)
        except SealdropError as exc:
            yield Line(FAIL, f"statement: {exc}")
            return
        yield Line(
            OK,
            f"statement: signed by the organisation key {self.key.fingerprint}, version "
            f"{statement.version}, issued {statement.issued}",
        )
        if statement.onion != self.host.lower():
            yield Line(FAIL, f"onion: the statement is for {statement.onion}, not {self.host}")
        else:
            yield Line(OK, "onion: the statement is for this address")
        signed = set(statement.recipients)
        assets = dict(statement.assets)
        for page in PAGES:
            yield from self._check_page(page, assets, signed)
        yield from self._check_config_api(signed)
        for path, digest in statement.assets:
            yield from self._check_asset(path, digest)

    def _check_page(self, page: str, assets: dict[str, str], signed: set[str]) -> Iterator[Line]:
        try:
            response = self._get(page)
        except FetchError as exc:
            yield Line(ERROR, f"page {page}: cannot fetch it ({exc})")
            return
        if response.status == 404 and page in OPTIONAL_PAGES:
            yield Line(OK, f"page {page}: not offered by this service")
            return
        if response.status != 200:
            yield Line(ERROR, f"page {page}: answered HTTP {response.status}")
            return
        parser = _Page()
        text = response.body.decode("utf-8", "replace")
        parser.feed(text)
        parser.close()
        unsigned = sorted(
            ref
            for ref in set(parser.loads)
            if not (ref.startswith(STATIC_PREFIX) and ref[len(STATIC_PREFIX) :] in assets)
        )
        if unsigned:
            yield Line(FAIL, f"page {page}: loads {', '.join(unsigned)}, not in the statement")
        elif parser.inline_scripts:
            yield Line(FAIL, f"page {page}: has {parser.inline_scripts} inline script(s)")
        else:
            problem = _csp_problem(response.headers.get("Content-Security-Policy", ""))
            if problem:
                yield Line(FAIL, f"page {page}: {problem}")
            else:
                loaded = sorted(ref[len(STATIC_PREFIX) :] for ref in set(parser.loads))
                yield Line(OK, f"page {page}: loads only signed assets ({', '.join(loaded)})")
        if parser.config_text is not None:
            try:
                offered = _fingerprints(json.loads(parser.config_text).get("recipients"))
            except (ValueError, AttributeError, RecursionError, SealdropError) as exc:
                yield Line(FAIL, f"recipients: page {page} carries unreadable keys ({exc})")
            else:
                yield self._compare_keys(f"page {page} seals to", offered, signed)
            shown = set(_FINGERPRINT.findall(text))
            if shown:  # the fingerprints people compare with what the organisation published
                yield self._compare_keys(f"page {page} shows the fingerprints of", shown, signed)

    def _check_config_api(self, signed: set[str]) -> Iterator[Line]:
        try:
            response = self._get(CONFIG_API)
            offered = _fingerprints(json.loads(response.body).get("recipients"))
        except FetchError as exc:
            yield Line(ERROR, f"recipients: cannot fetch {CONFIG_API} ({exc})")
        except (ValueError, AttributeError, RecursionError, SealdropError) as exc:
            yield Line(FAIL, f"recipients: {CONFIG_API} carries unreadable keys ({exc})")
        else:
            yield self._compare_keys(f"{CONFIG_API} lists", offered, signed)

    @staticmethod
    def _compare_keys(what: str, offered: set[str], signed: set[str]) -> Line:
        extra, missing = sorted(offered - signed), sorted(signed - offered)
        if extra:
            return Line(FAIL, f"recipients: {what} {', '.join(extra)}, not in the statement")
        if missing:
            return Line(FAIL, f"recipients: {what} no {', '.join(missing)}, which is signed")
        return Line(OK, f"recipients: {what} the {len(signed)} signed key(s)")

    def _check_asset(self, path: str, digest: str) -> Iterator[Line]:
        problems = []
        for encoding, gzip_ok in (("plain", False), ("gzip", True)):
            try:
                response = self._get(STATIC_PREFIX + path, gzip_ok=gzip_ok)
            except FetchError as exc:
                yield Line(ERROR, f"asset {path}: cannot fetch it ({exc})")
                return
            if response.status != 200:
                problems.append(f"HTTP {response.status} ({encoding})")
            elif sha256_hex(response.body) != digest:
                problems.append(
                    f"the {encoding} bytes served differ from the signed hash "
                    f"(sha256 {sha256_hex(response.body)})"
                )
        if problems:
            yield Line(FAIL, f"asset {path}: {'; '.join(problems)}")
        else:
            yield Line(OK, f"asset {path}: matches the signed hash (plain and gzip)")
