"""Format v2 in real browsers, figures side by side in one run (issue 22):

- the submission page's own sealing worker sealing a 50 MiB file (WebCrypto, no upload) in
  Firefox ESR at Tor Browser's Safer level, next to libsodium.js (what format v1 sealed with,
  secretstream in 64 KiB chunks) in the same page; Firefox at Standard and Chromium beside;
- the submission page's first-load bytes (gzip as served): every request the page made, from
  opening it to a sealed submission, next to what v1 loaded.
"""

from __future__ import annotations

import http.client
import json
import shutil
import subprocess
import tempfile
from pathlib import Path
from urllib.parse import urlsplit

from tests.browser.harness import Server, running_intake

HERE = Path(__file__).resolve().parent
MiB = 1 << 20
SIZE_MIB = 50
V1_MIB = 8  # libsodium.js at Safer runs at about 1 MB/s: a few MiB give its rate
SODIUM = "/static/js/sodium.js"
V1_FIRST_LOAD_KB = 383  # measured before format v2 (issue 22)
RUNS = [
    ("firefox", "safer", "ru", V1_MIB),
    ("firefox", "standard", "en", V1_MIB),
    ("chromium", "standard", "en", 0),
]


def _seal(server: Server, browser: str, level: str, lang: str, v1_mib: int) -> dict:
    node = shutil.which("node")
    if node is None:
        raise RuntimeError("node is not installed")
    args = [server.url, browser, level, lang, str(SIZE_MIB), str(v1_mib)]
    result = subprocess.run(
        [node, str(HERE / "browser_bench.js"), *args], capture_output=True, text=True, timeout=600
    )
    if result.returncode != 0:
        raise RuntimeError(f"{browser} at {level} failed:\n{result.stderr[-2000:]}")
    return json.loads(result.stdout)


def _gzip_bytes(server: Server, path: str) -> int:
    parts = urlsplit(server.url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
    connection.request("GET", path, headers={"Accept-Encoding": "gzip"})
    response = connection.getresponse()
    body = response.read()
    connection.close()
    if response.status not in (200, 204):
        raise RuntimeError(f"{path}: HTTP {response.status}")
    return len(body)


def _rate(bytes_: int, ms: float) -> float:
    return bytes_ / MiB / (ms / 1000) if ms else 0.0


def _rates(server: Server) -> None:
    for browser, level, lang, v1_mib in RUNS:
        report = _seal(server, browser, level, lang, v1_mib)
        v2 = _rate(report["v2_bytes"], report["v2_ms"])
        line = f"  {browser:8s} {level:8s} v2 (WebCrypto AES-GCM): {v2:7.1f} MiB/s"
        if v1_mib:
            v1 = _rate(report["v1_bytes"], report["v1_ms"])
            line += f"   v1 (libsodium.js): {v1:7.2f} MiB/s   ratio {v2 / v1:6.0f}x"
        if level == "safer":
            assert report["webassembly"] == "undefined", "Safer's prefs did not apply"
            line += "   (target v2 >= 95 MiB/s = 100 MB/s)"
        print(line)


def _first_load(server: Server) -> None:
    """Every file the page fetched up to a sealed submission, per language (the bench's own v1
    step aside, which loaded sodium.js), next to v1's total."""
    fetched = dict.fromkeys(server.recorder.paths("GET"))
    shared = [
        p
        for p in fetched
        if p.startswith(("/static/", "/api/v1/epochs")) and p != SODIUM and "/words-" not in p
    ]
    print("  submission page, first load up to a sealed submission, bytes as served (gzip):")
    for lang in ("en", "ru"):
        words = f"/static/js/words-{lang}.js"
        assert words in fetched, f"no run fetched {words}"
        sizes = {path: _gzip_bytes(server, path) for path in [f"/?lang={lang}", *shared, words]}
        listed = ", ".join(
            f"{path.rsplit('/', 1)[-1]} {size / 1000:.1f}" for path, size in sizes.items()
        )
        total = sum(sizes.values())
        print(f"    {lang}: {total / 1000:5.1f} KB   (target <= 40 KB)   {listed}")
    sodium = _gzip_bytes(server, SODIUM) / 1000
    print(
        f"    v1, before format v2: {V1_FIRST_LOAD_KB:.1f} KB, of which sodium.js {sodium:.1f} KB"
    )
    legacy = _gzip_bytes(server, "/static/js/legacy-words.js")
    print(
        f"    a follow-up also fetches the other list and legacy-words.js ({legacy / 1000:.1f} KB)"
    )


def run() -> None:
    print(f"\n== browser: sealing {SIZE_MIB} MiB in the page's worker; first-load bytes ==")
    limit = (SIZE_MIB + 8) * MiB
    with (
        tempfile.TemporaryDirectory(prefix="sealdrop-bench-") as work,
        running_intake(Path(work), MAX_SUBMISSION_BYTES=limit) as server,
    ):
        _rates(server)
        _first_load(server)


if __name__ == "__main__":
    run()
