"""Judging one page as it was served: its headers (the whole policy, refreshes, links,
redirects), what it loads, and where it can send the person (links, forms, meta refresh,
``<base>``). Each finding is a FAIL line with a sentence naming it; the addresses a page
leads to within the service are collected for the crawl (verify.checks)."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

from . import csp
from .fetch import Response
from .lines import FAIL, Found, Line, Visit
from .page import Page, refresh_target, within

STATIC_PREFIX = "/static/"
NOT_PAGES = ("/static/", "/api/", "/.well-known/")  # checked as assets or not pages at all


def headers(netloc: str, name: str, visit: Visit, response: Response, found: Found) -> list[Line]:
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
        target = within(visit.path, location, netloc)
        if target is None:
            lines.append(Line(FAIL, f"{name}: redirects to {location}, away from this service"))
        else:
            found.visits.add(Visit("GET", target))
    return lines


def loads(netloc: str, name: str, visit: Visit, page: Page, assets: dict[str, str]) -> list[Line]:
    lines = []
    unsigned = sorted(
        ref
        for ref in set(page.loads)
        if not (
            (path := within(visit.path, ref, netloc) or "").startswith(STATIC_PREFIX)
            and path[len(STATIC_PREFIX) :] in assets
        )
    )
    if unsigned:
        lines.append(Line(FAIL, f"{name}: loads {', '.join(unsigned)}, not in the statement"))
    if page.inline_scripts:
        lines.append(Line(FAIL, f"{name}: has {page.inline_scripts} inline script(s)"))
    if page.handlers:
        lines.append(
            Line(FAIL, f"{name}: has inline event handlers ({', '.join(sorted(page.handlers))})")
        )
    return lines


def navigation(netloc: str, name: str, visit: Visit, page: Page, found: Found) -> list[Line]:
    lines = []
    away = sorted(
        {
            f"{what} to {address}"
            for what, address in page.navigation
            if within(visit.path, address, netloc) is None
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
        target = within(visit.path, address, netloc)
        if target is None or target.startswith(NOT_PAGES):
            continue
        method = "POST" if what == "form" and address in page.forms else "GET"
        if what == "form" and method == "GET" and address not in page.forms:
            continue  # a form that gets: the page it leads to is a link's
        found.visits.add(Visit(method, target))
        query = dict(parse_qsl(urlsplit(target).query))
        if query.get("lang"):
            found.languages.add(query["lang"])
    return lines
