"""Refusing state-changing requests that another site's page makes a visitor's browser send.

- The JSON API (POST under /api/) takes only ``Content-Type: application/json``: a page on
  another site cannot send that without the browser asking first (a CORS preflight, which
  this server never allows).
- Every other state-changing request is refused when the browser says it comes from another
  site (``Sec-Fetch-Site: cross-site``), or, from a browser too old to say so, when its
  ``Origin`` names another host. Requests without either header are allowed: Tor Browser at
  Safest and old browsers may send neither, and our own pages send ``Origin: null`` (their
  Referrer-Policy is no-referrer).

Nothing is read from the body before this check.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import request

from .errors import cross_site, not_json

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def refuse_cross_site() -> None:
    if request.method in SAFE_METHODS:
        return
    site = request.headers.get("Sec-Fetch-Site")
    if site is not None:
        if site.strip().lower() == "cross-site":
            raise cross_site()
    else:
        origin = request.headers.get("Origin", "").strip()
        if origin and origin != "null" and urlsplit(origin).netloc.lower() != request.host.lower():
            raise cross_site()
    is_api_post = request.method == "POST" and request.path.startswith("/api/")
    if is_api_post and (request.mimetype or "").lower() != "application/json":
        raise not_json()
