"""What `sealdrop-verify` checks, one line each: the statement's signature and address; every
page a person can reach from the first one (every language, the pages forms lead to, the
not-found page), as each Tor Browser asks for it, loads only signed assets, leads nowhere but
the service (links, forms, refreshes) and is served under the whole policy
(verify.csp); the pages seal to exactly the signed reviewer keys, and to weekly keys only
under the signing keys the statement vouches for (verify.epochs); every signed asset is
served byte for byte, whoever asks and in whichever encoding (verify.fetch)."""

from __future__ import annotations

import json
import re
import time
from collections import deque
from collections.abc import Callable, Generator, Iterator
from concurrent.futures import ThreadPoolExecutor

from crypto import PublicKey, SealdropError
from crypto.deployment import Statement, sha256_hex
from crypto.signing import SigningPublicKey

from . import epochs, judge
from .fetch import Client, FetchError, Response, UnreadableEncoding, clients, headers, request
from .lines import ERROR, FAIL, OK, Found, Line, Visit, merged
from .pace import Pace
from .page import parse, within

STATEMENT_PATH = "/.well-known/sealdrop-deployment"
FIRST_PAGE = "/"
# Pages a person reaches without a link on the first page, checked in every language: the
# follow-up page (bookmarked), where a sent message leads (by script), and its form.
KNOWN_PAGES = (("GET", "/replies"), ("GET", "/sent"), ("POST", "/sent"))
OPTIONAL_PAGES = ("/replies",)  # a service may run without follow-up replies
NOT_A_PAGE = "/sealdrop-verify-no-such-page"  # what a mistyped address shows
MAX_PAGES = 60
RETRIES, DEFAULT_WAIT, MAX_WAIT = 3, 10, 60  # seconds, when the service says to slow down
CONFIG_API = "/api/v1/config"
STATIC_PREFIX = judge.STATIC_PREFIX
_FINGERPRINT = re.compile(r"\b[0-9a-f]{4}(?: [0-9a-f]{4}){7}\b")
_NO_EPOCHS = {"format": "sealdrop-epochs", "reviewers": []}  # a service without weekly keys


def _fingerprints(lines: object) -> set[str]:
    if not isinstance(lines, list):
        raise ValueError("no list of recipients")
    return {PublicKey.from_line(str(line)).fingerprint for line in lines}


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
        self.now: Callable[[], float] = time.time  # the weekly keys' clock (a test sets it)
        self.statement: Statement | None = None  # once verified (run)

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
        self.statement = statement
        signed = set(statement.recipients)
        assets = dict(statement.assets)
        yield from self._check_pages(assets, signed)
        yield from self._check_config_api(signed)
        yield from self._check_epochs_api(statement)
        for path, digest in statement.assets:
            yield from self._check_asset(path, digest)

    # --- pages ------------------------------------------------------------------------------

    def _check_pages(self, assets: dict[str, str], signed: set[str]) -> Iterator[Line]:
        """From the first page, every page its links and forms lead to, in every language
        its language switch offers, and the not-found page in each."""
        seeds = [Visit("GET", FIRST_PAGE), *(Visit(*seed) for seed in KNOWN_PAGES)]
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
                    found.visits.add(Visit("GET", NOT_A_PAGE + query))
                    found.visits |= {Visit(method, path + query) for method, path in KNOWN_PAGES}
            for target in sorted(found.visits - queued, key=str):
                queued.add(target)
                queue.append(target)

    def _check_page(
        self, visit: Visit, assets: dict[str, str], signed: set[str]
    ) -> Generator[Line, None, Found]:
        found = Found()
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
        yield from merged(results, "only as it is served to")
        return found

    def _judge_page(
        self,
        visit: Visit,
        response: Response,
        assets: dict[str, str],
        signed: set[str],
        found: Found,
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
        lines = judge.headers(self.netloc, name, visit, response, found)
        if 300 <= status < 400:
            return lines
        if not expected:
            return [*lines, Line(ERROR, f"{name}: answered HTTP {status}")]
        if status == 404 and not visit.path.startswith(NOT_A_PAGE):
            return [Line(OK, f"{name}: not offered by this service")]
        text = response.body.decode("utf-8", "replace")
        page = parse(text)
        lines += judge.loads(self.netloc, name, visit, page, assets)
        lines += judge.navigation(self.netloc, name, visit, page, found)
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

    def _judge_config(self, name: str, config_text: str, text: str, signed: set[str]) -> list[Line]:
        try:
            config = json.loads(config_text)
            offered = _fingerprints(config.get("recipients"))
        except (ValueError, AttributeError, RecursionError, SealdropError) as exc:
            return [Line(FAIL, f"recipients: {name} carries unreadable keys ({exc})")]
        lines = [self._compare_keys(f"{name} seals to", offered, signed)]
        if config.get("epochs") is not None and self.statement is not None:
            # the page's worker seals to weekly keys its config carries instead of asking
            where = f"{name}'s config"
            lines += epochs.judge(where, config["epochs"], self.statement, self.now())
        shown = set(_FINGERPRINT.findall(text))
        if shown:  # the fingerprints people compare with what the organisation published
            lines.append(self._compare_keys(f"{name} shows the fingerprints of", shown, signed))
        return lines

    def _check_config_api(self, signed: set[str]) -> Iterator[Line]:
        def judge(body: bytes | None) -> list[Line]:
            try:
                offered = _fingerprints(json.loads(body or b"").get("recipients"))
            except (ValueError, AttributeError, RecursionError, SealdropError) as exc:
                return [Line(FAIL, f"recipients: {CONFIG_API} carries unreadable keys ({exc})")]
            return [self._compare_keys(f"{CONFIG_API} lists", offered, signed)]

        yield from self._check_api(CONFIG_API, "recipients", judge)

    def _check_epochs_api(self, statement: Statement) -> Iterator[Line]:
        """The weekly keys the page's worker asks for before sealing (verify.epochs)."""

        def judge(body: bytes | None) -> list[Line]:
            try:
                served = json.loads(body) if body is not None else _NO_EPOCHS
            except (ValueError, RecursionError) as exc:
                return [Line(FAIL, f"epochs: {epochs.EPOCHS_API} is unreadable ({exc})")]
            return epochs.judge(epochs.EPOCHS_API, served, statement, self.now())

        yield from self._check_api(epochs.EPOCHS_API, "epochs", judge, absent_ok=True)

    def _check_api(
        self,
        path: str,
        topic: str,
        judge: Callable[[bytes | None], list[Line]],
        *,
        absent_ok: bool = False,
    ) -> Iterator[Line]:
        """One JSON address as every browser's page asks for it; ``judge`` gets its body
        (None: not offered, when ``absent_ok``: a service older than what it serves)."""
        results = []
        ways = [(client, "empty") for client in self.clients]
        fetched = self._each(path, ways, site="same-origin")
        for client in self.clients:
            try:
                response = _outcome(fetched[client, "empty"])
            except UnreadableEncoding as exc:
                results.append((client, [Line(FAIL, f"{topic}: {path}: {exc}")]))
                continue
            except FetchError as exc:
                yield Line(ERROR, f"{topic}: cannot fetch {path} ({exc})")
                return
            if response.status == 404 and absent_ok:
                results.append((client, judge(None)))
            elif response.status != 200:
                yield Line(ERROR, f"{topic}: {path} answered HTTP {response.status}")
                return
            else:
                results.append((client, judge(response.body)))
        yield from merged(results, "only as it is served to")

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
