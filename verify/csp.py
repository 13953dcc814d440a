"""Judging a page's whole Content-Security-Policy, not only its script rule.

A signed sealdrop service lets a page load, connect to, frame and post to nothing but itself:
every fetch directive allows at most ``'self'`` (``default-src`` must be there, so no
directive falls back to "anything"), forms post only to the service, ``<base>`` is off,
nothing may frame the page, and no report leaves for elsewhere. When a response carries
several policies the browser enforces all of them, so one policy meeting the rule is enough.
"""

from __future__ import annotations

FETCH = frozenset(
    {
        "default-src",
        "child-src",
        "connect-src",
        "font-src",
        "frame-src",
        "img-src",
        "manifest-src",
        "media-src",
        "object-src",
        "prefetch-src",
        "script-src",
        "script-src-elem",
        "script-src-attr",
        "style-src",
        "style-src-elem",
        "style-src-attr",
        "worker-src",
        "fenced-frame-src",
    }
)
REQUIRED = ("default-src", "form-action", "base-uri", "frame-ancestors")
_ONLY_HERE = frozenset({"'self'", "'none'"})
_BASE_URI = frozenset({"'none'"})


def directives(policy: str) -> dict[str, list[str]]:
    """As the CSP spec parses one policy: the first of a repeated directive counts."""
    found: dict[str, list[str]] = {}
    for part in policy.split(";"):
        words = part.split()
        if words and words[0].lower() not in found:
            found[words[0].lower()] = [w.lower() for w in words[1:]]
    return found


def problem(policy: str) -> str | None:
    """What lets this one policy load or send anything beyond the service, or None."""
    rules = directives(policy)
    missing = [name for name in REQUIRED if name not in rules]
    if missing:
        return f"its Content-Security-Policy has no {', '.join(missing)}"
    for name, sources in rules.items():
        allowed = _BASE_URI if name == "base-uri" else _ONLY_HERE
        if name in FETCH or name in ("form-action", "frame-ancestors", "base-uri"):
            extra = [s for s in sources if s not in allowed]
            if extra:
                return f"its Content-Security-Policy's {name} allows {' '.join(extra)}"
        elif name in ("report-uri", "report-to"):
            return f"its Content-Security-Policy sends reports to {' '.join(sources)}"
    return None


def judge(policies: list[str]) -> str | None:
    """None when at least one of the response's policies meets the rule."""
    if not policies:
        return "it has no Content-Security-Policy"
    problems = [problem(policy) for policy in policies]
    return None if None in problems else problems[0]
