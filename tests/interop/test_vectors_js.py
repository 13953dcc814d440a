"""The browser's format v2 code against the vectors (tests/vectors, docs/FORMAT.md 9.5):

- RFC 9180 A.1.1 and the stanza vector through the `hpke` package the page uses;
- every v2 "ok" vector sealed again by envelope.js from its fixed file key and ephemeral keys
  is the vector byte for byte (so the browser and Python write the same bytes), and opens in
  the replies page's opener to its parts;
- every v2 failure vector is refused by that opener with the vector's error class.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
from pathlib import Path

HERE = Path(__file__).resolve().parent
VECTORS = HERE.parent / "vectors"


def run(node: str, script: str, *args: str) -> dict:
    result = subprocess.run(
        [node, str(HERE / script), *args], capture_output=True, check=True, timeout=120
    )
    return json.loads(result.stdout)


def test_rfc9180_vectors_in_js(node):
    vectors = json.loads((VECTORS / "hpke-rfc9180.json").read_text(encoding="utf-8"))
    report = run(node, "hpke.js", str(VECTORS / "hpke-rfc9180.json"))
    rfc = vectors["rfc9180_a_1_1"]
    assert report["rfc"] == {"enc": rfc["enc"], "ct": rfc["ct"], "pt": rfc["pt"]}
    ours = vectors["sealdrop_v2_stanza"]
    assert report["ours"]["enc"] + report["ours"]["ct"] == ours["stanza_body"]
    assert report["ours"]["pt"] == ours["pt"]


def _content(part: dict) -> bytes:
    if "content_hex" in part:
        return bytes.fromhex(part["content_hex"])
    return bytes.fromhex(part["content_fill_hex"]) * part["size"]


def test_v2_vectors_in_js(node):
    report = run(node, "vectors.js", str(VECTORS))
    names = sorted(path.stem for path in VECTORS.glob("v2-*.json"))
    assert sorted(report) == names and len(names) > 20
    for name in names:
        vector = json.loads((VECTORS / f"{name}.json").read_text(encoding="utf-8"))
        result = report[name]
        if vector["expect"] != "ok":
            assert result == {"error": vector["expect"]}, name
            continue
        if "file_key_hex" in vector:
            assert result["resealed"] is True, name
        opened = result["opened"]
        parts = vector["parts"]
        messages = [_content(p).decode() for p in parts if p["kind"] == "message"]
        assert opened["message"] == "".join(messages), name
        files = [
            {
                "name": p["name"],
                "type": p["type"],
                "sha256": hashlib.sha256(_content(p)).hexdigest(),
            }
            for p in parts
            if p["kind"] == "file"
        ]
        assert opened["files"] == files, name
        assert opened["trailer"] == vector["trailer"], name
    assert report["v2-ok-two-chunks"]["resealed"] and report["v2-ok-three-recipients"]["resealed"]
    # Key commitment: the same bytes open for a and are refused for b (the header MAC).
    assert "opened" in report["v2-ok-key-commitment-a"]
    assert report["v2-fail-key-commitment"] == {"error": "corrupted"}
