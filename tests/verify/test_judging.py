"""How sealdrop-verify judges one page and one policy, without a server: every way a page
can load or lead elsewhere is a FAIL line with a sentence naming it."""

from __future__ import annotations

import http.client

import pytest

from verify import checks, csp
from verify.checks import FAIL, OK, Found, Verifier, Visit

ONION = "x" * 56 + ".onion"
POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; worker-src 'self'; form-action 'self'; base-uri 'none'; "
    "frame-ancestors 'none'"
)


def _judge(body: str, **headers: str) -> list[str]:
    message = http.client.HTTPMessage()
    message["Content-Security-Policy"] = POLICY
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    verifier = Verifier(ONION, 80, None, None, 1.0)  # type: ignore[arg-type]
    response = checks.Response(200, message, body.encode())
    found = Found()
    lines = verifier._judge_page(Visit("GET", "/"), response, {"js/app.js": "0"}, set(), found)
    return [line.text for line in lines if line.status == FAIL]


def test_a_faithful_page_passes_and_its_links_are_followed() -> None:
    body = '<a href="/replies?lang=ru">r</a><form method="post" action="/submit?lang=ru"></form>'
    message = http.client.HTTPMessage()
    message["Content-Security-Policy"] = POLICY
    found = Found()
    verifier = Verifier(ONION, 80, None, None, 1.0)  # type: ignore[arg-type]
    lines = verifier._judge_page(
        Visit("GET", "/"), checks.Response(200, message, body.encode()), {}, set(), found
    )
    assert [line.status for line in lines] == [OK]
    assert found.visits == {Visit("GET", "/replies?lang=ru"), Visit("POST", "/submit?lang=ru")}
    assert found.languages == {"ru"}


@pytest.mark.parametrize(
    ("body", "headers", "failure"),
    [
        (
            f'<form method="post" action="http://{"e" * 56}.onion/check"></form>',
            {},
            f"page /: has a form to http://{'e' * 56}.onion/check, away from this service",
        ),
        ('<a href="javascript:steal()">x</a>', {}, "has a link to javascript:steal()"),
        ('<button formaction="//evil.onion/x">', {}, "has a form to //evil.onion/x"),
        ("<p>hi</p>", {"Refresh": "3; url=http://evil.onion/"}, "sends a Refresh header to"),
        ("<p>hi</p>", {"Link": "</static/x.css>; rel=stylesheet"}, "has a Link header"),
        ('<base href="http://evil.onion/">', {}, "has a <base href="),
        ('<p onclick="go()">x</p>', {}, "has inline event handlers (onclick)"),
        ('<img srcset="/static/a.png 1x, http://t.onion/p.png 2x">', {}, "loads /static/a.png"),
        ('<meta http-equiv="Refresh" content="0;URL=\'http://e.onion/\'">', {}, "meta refresh"),
    ],
)
def test_each_way_elsewhere_is_named(body: str, headers: dict[str, str], failure: str) -> None:
    failures = _judge(body, **headers)
    assert any(failure in text for text in failures), failures


@pytest.mark.parametrize(
    ("policy", "problem"),
    [
        (POLICY, None),
        (POLICY.replace("img-src 'self'", "img-src *"), "img-src allows *"),
        (POLICY.replace("script-src 'self'", "script-src 'self' 'unsafe-inline'"), "script-src"),
        (POLICY.replace("default-src 'none'; ", ""), "has no default-src"),
        (POLICY.replace("form-action 'self'", "form-action http:"), "form-action allows http:"),
        (POLICY + "; report-uri http://e.onion/r", "sends reports to http://e.onion/r"),
        (POLICY.replace("base-uri 'none'", "base-uri 'self'"), "base-uri allows 'self'"),
    ],
)
def test_the_whole_policy_is_judged(policy: str, problem: str | None) -> None:
    found = csp.problem(policy)
    assert found == problem if problem is None else problem in (found or "")


def test_one_strict_policy_among_several_is_enough() -> None:
    assert csp.judge(["default-src *", POLICY]) is None
    assert csp.judge(["default-src *"]) is not None
    assert csp.judge([]) == "it has no Content-Security-Policy"


def test_asked_to_slow_down_it_waits_what_the_service_says_and_asks_again(monkeypatch) -> None:
    answers = [429, 429, 200]
    waited: list[float] = []

    def fake_request(*args: object, **kwargs: object) -> checks.Response:
        message = http.client.HTTPMessage()
        message["Retry-After"] = "60"
        return checks.Response(answers.pop(0), message, b"")

    monkeypatch.setattr(checks, "request", fake_request)
    monkeypatch.setattr(checks.time, "sleep", waited.append)
    verifier = Verifier(ONION, 80, None, None, 1.0)  # type: ignore[arg-type]
    assert verifier._get("/").status == 200
    assert waited == [60, 60]


def test_the_pace_keeps_within_a_circuits_budget(monkeypatch) -> None:
    from verify import pace

    clock = [100.0]
    waits: list[float] = []
    monkeypatch.setattr(pace.time, "monotonic", lambda: clock[0])
    monkeypatch.setattr(pace.time, "sleep", waits.append)
    paced = pace.Pace(8)
    for _ in range(30):  # the burst goes at once
        paced.take("GET")
    assert waits == []
    paced.take("GET")
    assert waits == [pytest.approx(1 / 8)]
    for _ in range(8):
        paced.take("POST")
    paced.take("POST")
    assert waits[-1] == pytest.approx(60 / pace.POSTS_PER_MINUTE)
    assert pace.Pace(0).gets.per_second == 0  # no pacing at all
