"""The served static files against intake/assets.json, the SHA-256 of each as the release
built it (written by intake/static/src/build.js, shipped in the wheel)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

PACKAGE_DIR = Path(__file__).parent
MANIFEST = PACKAGE_DIR / "assets.json"
STATIC_DIR = PACKAGE_DIR / "static"
FORMAT = "sealdrop-assets-v1"
SERVED_DIRS = ("css", "js")


class ManifestError(Exception):
    """The asset manifest is missing or unreadable."""


def load_manifest(path: Path = MANIFEST) -> dict[str, str]:
    """{"js/app.js": sha256 hex, ...}, relative to static/."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ManifestError(
            f"{path} is missing, so the browser code was never built for this installation; "
            "install the release wheel (or run `make js` in a development checkout)"
        ) from None
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise ManifestError(f"{path} cannot be read ({exc}); reinstall the release wheel") from None
    if not isinstance(data, dict):
        data = {}
    assets = data.get("assets")
    if data.get("format") != FORMAT or not isinstance(assets, dict):
        raise ManifestError(f"{path} is not a {FORMAT} manifest; reinstall the release wheel")
    return {str(name): str(digest) for name, digest in assets.items()}


def served_files(static: Path = STATIC_DIR) -> list[str]:
    """Every file the server would send from static/css and static/js."""
    names = []
    for directory in SERVED_DIRS:
        if (static / directory).is_dir():
            for path in sorted((static / directory).iterdir()):
                if path.is_file() and not path.name.startswith("."):
                    names.append(f"{directory}/{path.name}")
    return names


def differences(manifest: dict[str, str], static: Path = STATIC_DIR) -> list[str]:
    """One sentence per served file that is missing, altered, or not in the manifest."""
    found = []
    for name, digest in sorted(manifest.items()):
        path = static / name
        try:
            actual = hashlib.sha256(path.read_bytes()).hexdigest()
        except OSError:
            found.append(f"static/{name} is missing")
            continue
        if actual != digest:
            found.append(f"static/{name} differs from the release (sha256 {actual}, not {digest})")
    for name in served_files(static):
        if name not in manifest:
            found.append(f"static/{name} is served but not part of the release")
    return found
