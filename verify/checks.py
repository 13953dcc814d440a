"""What `sealdrop-verify` checks, one line each: the statement's signature and address; every
page a person can reach from the first one (every language, the pages forms lead to, the
not-found page), as each Tor Browser asks for it, loads only signed assets, leads nowhere but
the service (links, forms, refreshes) and is served under the whole policy
(verify.csp); the pages seal to exactly the signed reviewer keys; every signed asset is
served byte for byte, whoever asks and in whichever encoding (verify.fetch)."""

from __future__ import annotations

import json
import re
import time
from collections import deque
from collections.abc import Generator, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlsplit

from crypto import PublicKey, SealdropError
from crypto.deployment import Statement, sha256_hex
from crypto.signing import SigningPublicKey

from . import csp
from .fetch import Client, FetchError, Response, UnreadableEncoding, clients, headers, request
from .pace import Pace
from .page import Page, parse, refresh_target, within

STATEMENT_PATH = "/.well-known/sealdrop-deployment"
FIRST_PAGE = "/"
# Pages a person reaches without a link on the first page, checked in every language: the
# follow-up page (bookmarked), where a sent message leads (by script), and its form.
KNOWN_PAGES = (("GET", "/replies"), ("GET", "/sent"), ("POST", "/sent"))
OPTIONAL_PAGES = ("/replies",)  # a service may run without follow-up replies
NOT_A_PAGE = "/sealdrop-verify-no-such-page"  # what a mistyped address shows
NOT_PAGES = ("/static/", "/api/", "/.well-known/")  # checked as assets or not pages at all
MAX_PAGES = 60
RETRIES, DEFAULT_WAIT, MAX_WAIT = 3, 10, 60  # seconds, when the service says to slow down
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


def _fingerprints(lines: object) -> set[str]:
    if not isinstance(lines, list):
        raise ValueError("no list of recipients")
    return {PublicKey.from_line(str(line)).fingerprint for line in lines}


@dataclass(frozen=True)
class _Visit:
    method: str
    path: str

    def __str__(self) -> str:
        return self.path if self.method == "GET" else f"{self.path} (a form posted to it)"


@dataclass
class _Found:
    """What the pages of one address lead to, whichever browser asked."""

    visits: set[_Visit] = field(default_factory=set)
    languages: set[str] = field(default_factory=set)


def _merged(results: list[tuple[Client, list[Line]]], how: str) -> list[Line]:
    """One line per finding; a finding that only some ways of asking met says which."""
    everyone = len(results)
    seen: dict[Line, list[str]] = {}
    for client, lines in results:
        for line in lines:
            seen.setdefault(line, []).append(str(client))
    merged = []
    for line, names in seen.items():
        if line.status == OK and len(names) < everyone:
            continue  # the others' lines say what differs
        if len(names) < everyone:
            line = Line(line.status, f"{line.text} ({how} {'; '.join(names)})")
        merged.append(line)
    return merged


def _outcome(fetched: Response | FetchError) -> Response:
    if isinstance(fetched, FetchError):
        raise fetched
    return fetched


class Verifier:
    def __init__(
        self,
        host: str,
        port: int,
        key: SigningPublicKey,
        proxy: tuple[str, int] | None,
        timeout: float,
        rate: float = 0,
    ) -> None:
        self.host, self.port, self.key, self.proxy, self.timeout = host, port, key, proxy, timeout
        self.pace = Pace(rate)
        self.netloc = host if port == 80 else f"{host}:{port}"
        self.clients = clients()

    def _each(
        self, path: str, ways: list[tuple[Client, str]], *, site: str, method: str = "GET"
    ) -> dict[tuple[Client, str], Response | FetchError]:
        """Every way of asking for one address, at once (over Tor, each on its own stream);
        posts one after another (the service lets a circuit post only so fast). A failed
        fetch is kept as its error, for the caller to report in order."""

        def one(way: tuple[Client, str]) -> Response | FetchError:
            try:
                return self._get(path, client=way[0], destination=way[1], site=site, method=method)
            except FetchError as exc:
                return exc

        with ThreadPoolExecutor(max_workers=1 if method == "POST" else len(ways)) as pool:
            return dict(zip(ways, pool.map(one, ways), strict=True))

    def _get(
        self,
        path: str,
        *,
        client: Client | None = None,
        destination: str = "document",
        site: str = "none",
        method: str = "GET",
    ) -> Response:
        """One request; asked again, as a browser's user would, when the service says to
        slow down (429, or 503 with Retry-After), waiting what it says (at most a minute)."""
        sent = headers(client or self.clients[0], destination, site, origin=method == "POST")
        for _ in range(RETRIES):
            self.pace.take(method)
            response = request(
                self.host, self.port, path, self.proxy, sent, method=method, timeout=self.timeout
            )
            wait = response.headers.get("Retry-After", "").strip()
            if response.status != 429 and not (response.status == 503 and wait):
                return response
            time.sleep(min(int(wait), MAX_WAIT) if wait.isdigit() else DEFAULT_WAIT)
        self.pace.take(method)
        return request(
            self.host, self.port, path, self.proxy, sent, method=method, timeout=self.timeout
        )

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
        yield from self._check_pages(assets, signed)
        yield from self._check_config_api(signed)
        for path, digest in statement.assets:
            yield from self._check_asset(path, digest)

    # --- pages ------------------------------------------------------------------------------

    def _check_pages(self, assets: dict[str, str], signed: set[str]) -> Iterator[Line]:
        """From the first page, every page its links and forms lead to, in every language
        its language switch offers, and the not-found page in each."""
        seeds = [_Visit("GET", FIRST_PAGE), *(_Visit(*seed) for seed in KNOWN_PAGES)]
        queue, queued = deque(seeds), set(seeds)
        probed: set[str] = set()
        while queue:
            if len(queued) > MAX_PAGES:
                yield Line(FAIL, f"pages: more than {MAX_PAGES} pages lead from one to another")
                return
            visit = queue.popleft()
            found = yield from self._check_page(visit, assets, signed)
            for language in sorted(found.languages | {""}):
                if language not in probed:
                    probed.add(language)
                    query = f"?lang={language}" if language else ""
                    found.visits.add(_Visit("GET", NOT_A_PAGE + query))
                    found.visits |= {_Visit(method, path + query) for method, path in KNOWN_PAGES}
            for target in sorted(found.visits - queued, key=str):
                queued.add(target)
                queue.append(target)

    def _check_page(
        self, visit: _Visit, assets: dict[str, str], signed: set[str]
    ) -> Generator[Line, None, _Found]:
        found = _Found()
        results = []
        site = "none" if visit.path == FIRST_PAGE else "same-origin"
        asking = self.clients
        if visit.method == "POST":  # a desktop and a phone: posts are limited per circuit
            asking = [self.clients[0], *(c for c in self.clients if "Android" in c.name)]
        ways = [(client, "document") for client in asking]
        fetched = self._each(visit.path, ways, site=site, method=visit.method)
        for client in asking:
            try:
                response = _outcome(fetched[client, "document"])
            except UnreadableEncoding as exc:
                results.append((client, [Line(FAIL, f"page {visit}: {exc}")]))
                continue
            except FetchError as exc:
                yield Line(ERROR, f"page {visit}: cannot fetch it ({exc})")
                return found
            results.append((client, self._judge_page(visit, response, assets, signed, found)))
        yield from _merged(results, "only as it is served to")
        return found

    def _judge_page(
        self,
        visit: _Visit,
        response: Response,
        assets: dict[str, str],
        signed: set[str],
        found: _Found,
    ) -> list[Line]:
        name = f"page {visit}"
        status = response.status
        if visit.path.startswith(NOT_A_PAGE):
            expected = status == 404
        elif visit.method == "POST":
            expected = 200 <= status < 500
        else:
            expected = status == 200 or (
                status == 404 and visit.path.split("?")[0] in OPTIONAL_PAGES
            )
        lines = self._judge_headers(name, visit, response, found)
        if 300 <= status < 400:
            return lines
        if not expected:
            return [*lines, Line(ERROR, f"{name}: answered HTTP {status}")]
        if status == 404 and not visit.path.startswith(NOT_A_PAGE):
            return [Line(OK, f"{name}: not offered by this service")]
        text = response.body.decode("utf-8", "replace")
        page = parse(text)
        lines += self._judge_loads(name, visit, page, assets)
        lines += self._judge_navigation(name, visit, page, found)
        if not [line for line in lines if line.status != OK]:
            loaded = sorted(
                (within(visit.path, ref, self.netloc) or "")[len(STATIC_PREFIX) :]
                for ref in set(page.loads)
            )
            lines.append(
                Line(
                    OK,
                    f"{name}: loads only signed assets ({', '.join(loaded)}) and leads only "
                    "to this service",
                )
            )
        if page.config_text is not None:
            lines += self._judge_config(name, page.config_text, text, signed)
        return lines

    def _judge_headers(
        self, name: str, visit: _Visit, response: Response, found: _Found
    ) -> list[Line]:
        lines = []
        policy = csp.judge(response.headers.get_all("Content-Security-Policy") or [])
        if policy and not 300 <= response.status < 400:  # a redirect shows nothing
            lines.append(Line(FAIL, f"{name}: {policy}"))
        refresh = response.headers.get("Refresh")
        if refresh is not None:
            lines.append(
                Line(
                    FAIL,
                    f"{name}: sends a Refresh header to {refresh_target(refresh) or 'itself'}; "
                    "the signed pages have none",
                )
            )
        if response.headers.get("Link") is not None:
            lines.append(
                Line(
                    FAIL,
                    f"{name}: has a Link header ({response.headers['Link']}), which makes the "
                    "browser load or go elsewhere",
                )
            )
        if 300 <= response.status < 400:
            location = response.headers.get("Location", "")
            target = within(visit.path, location, self.netloc)
            if target is None:
                lines.append(Line(FAIL, f"{name}: redirects to {location}, away from this service"))
            else:
                found.visits.add(_Visit("GET", target))
        return lines

    def _judge_loads(
        self, name: str, visit: _Visit, page: Page, assets: dict[str, str]
    ) -> list[Line]:
        lines = []
        unsigned = sorted(
            ref
            for ref in set(page.loads)
            if not (
                (path := within(visit.path, ref, self.netloc) or "").startswith(STATIC_PREFIX)
                and path[len(STATIC_PREFIX) :] in assets
            )
        )
        if unsigned:
            lines.append(Line(FAIL, f"{name}: loads {', '.join(unsigned)}, not in the statement"))
        if page.inline_scripts:
            lines.append(Line(FAIL, f"{name}: has {page.inline_scripts} inline script(s)"))
        if page.handlers:
            lines.append(
                Line(
                    FAIL, f"{name}: has inline event handlers ({', '.join(sorted(page.handlers))})"
                )
            )
        return lines

    def _judge_navigation(self, name: str, visit: _Visit, page: Page, found: _Found) -> list[Line]:
        lines = []
        away = sorted(
            {
                f"{what} to {address}"
                for what, address in page.navigation
                if within(visit.path, address, self.netloc) is None
            }
        )
        if away:
            lines.append(Line(FAIL, f"{name}: has a {', a '.join(away)}, away from this service"))
        for content in page.refreshes:
            lines.append(
                Line(
                    FAIL,
                    f"{name}: has a meta refresh to {refresh_target(content) or 'itself'}; the "
                    "signed pages have none",
                )
            )
        for base in page.bases:
            lines.append(Line(FAIL, f"{name}: has a <base href={base!r}>, which moves its links"))
        for what, address in page.navigation:
            target = within(visit.path, address, self.netloc)
            if target is None or target.startswith(NOT_PAGES):
                continue
            method = "POST" if what == "form" and address in page.forms else "GET"
            if what == "form" and method == "GET" and address not in page.forms:
                continue  # a form that gets: the page it leads to is a link's
            found.visits.add(_Visit(method, target))
            query = dict(parse_qsl(urlsplit(target).query))
            if query.get("lang"):
                found.languages.add(query["lang"])
        return lines

    def _judge_config(self, name: str, config_text: str, text: str, signed: set[str]) -> list[Line]:
        try:
            offered = _fingerprints(json.loads(config_text).get("recipients"))
        except (ValueError, AttributeError, RecursionError, SealdropError) as exc:
            return [Line(FAIL, f"recipients: {name} carries unreadable keys ({exc})")]
        lines = [self._compare_keys(f"{name} seals to", offered, signed)]
        shown = set(_FINGERPRINT.findall(text))
        if shown:  # the fingerprints people compare with what the organisation published
            lines.append(self._compare_keys(f"{name} shows the fingerprints of", shown, signed))
        return lines

    def _check_config_api(self, signed: set[str]) -> Iterator[Line]:
        results = []
        ways = [(client, "empty") for client in self.clients]
        fetched = self._each(CONFIG_API, ways, site="same-origin")
        for client in self.clients:
            try:
                response = _outcome(fetched[client, "empty"])
                if response.status != 200:
                    yield Line(ERROR, f"recipients: {CONFIG_API} answered HTTP {response.status}")
                    return
                offered = _fingerprints(json.loads(response.body).get("recipients"))
            except UnreadableEncoding as exc:
                results.append((client, [Line(FAIL, f"recipients: {CONFIG_API}: {exc}")]))
            except FetchError as exc:
                yield Line(ERROR, f"recipients: cannot fetch {CONFIG_API} ({exc})")
                return
            except (ValueError, AttributeError, RecursionError, SealdropError) as exc:
                results.append(
                    (
                        client,
                        [Line(FAIL, f"recipients: {CONFIG_API} carries unreadable keys ({exc})")],
                    )
                )
            else:
                results.append(
                    (client, [self._compare_keys(f"{CONFIG_API} lists", offered, signed)])
                )
        yield from _merged(results, "only as it is served to")

    @staticmethod
    def _compare_keys(what: str, offered: set[str], signed: set[str]) -> Line:
        extra, missing = sorted(offered - signed), sorted(signed - offered)
        if extra:
            return Line(FAIL, f"recipients: {what} {', '.join(extra)}, not in the statement")
        if missing:
            return Line(FAIL, f"recipients: {what} no {', '.join(missing)}, which is signed")
        return Line(OK, f"recipients: {what} the {len(signed)} signed key(s)")

    # --- assets -----------------------------------------------------------------------------

    def _check_asset(self, path: str, digest: str) -> Iterator[Line]:
        """Each signed asset as every browser asks for it, loaded as what it may be (a
        script as a script and as a worker), in every encoding: one byte off is a FAIL."""
        destinations = ("script", "worker") if path.endswith(".js") else ("style",)
        if not path.endswith((".js", ".css")):
            destinations = ("script",)
        problems: dict[str, list[str]] = {}
        asked = 0
        ways = [(client, destination) for client in self.clients for destination in destinations]
        fetched = self._each(STATIC_PREFIX + path, ways, site="same-origin")
        for client in self.clients:
            for destination in destinations:
                asked += 1
                way = f"{client}, as a {destination}"
                try:
                    response = _outcome(fetched[client, destination])
                except UnreadableEncoding as exc:
                    problems.setdefault(str(exc).split(": ", 1)[1], []).append(way)
                    continue
                except FetchError as exc:
                    yield Line(ERROR, f"asset {path}: cannot fetch it ({exc})")
                    return
                encoding = (response.headers.get("Content-Encoding") or "plain").lower()
                if response.status == 429 or response.status >= 500:
                    yield Line(ERROR, f"asset {path}: answered HTTP {response.status}")
                    return
                if response.status != 200:
                    problem = f"it answered HTTP {response.status}"
                elif sha256_hex(response.body) != digest:
                    problem = (
                        f"the {encoding} bytes served differ from the signed hash "
                        f"(sha256 {sha256_hex(response.body)})"
                    )
                else:
                    continue
                problems.setdefault(problem, []).append(way)
        if not problems:
            yield Line(
                OK, f"asset {path}: matches the signed hash, in every encoding, to every browser"
            )
            return
        texts = []
        for problem, ways in problems.items():
            texts.append(
                problem if len(ways) == asked else f"{problem} when asked by {'; '.join(ways)}"
            )
        yield Line(FAIL, f"asset {path}: {'; '.join(texts)}")
