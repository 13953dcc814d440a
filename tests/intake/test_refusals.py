"""Hostile requests and mistaken settings get a sentence, never a traceback (issue 10, items
4 and 8): non-ASCII digits, over-long paths, sources and dotfiles, identity files given as
recipients, and no file times in static answers."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from click.testing import CliRunner

from crypto import Identity
from crypto.codename import Codename
from intake.cli import main as cli
from intake.config import ConfigError, load

from .conftest import Intake, make_config


def no_traceback(intake: Intake) -> None:
    log = intake.log.getvalue()
    assert "unexpected" not in log and "Traceback" not in log, log


@pytest.mark.parametrize("part", ["²", "٣", "1" * 40, "-1", ""])
def test_reply_file_parts_in_any_digits_are_a_plain_not_found(intake: Intake, part: str) -> None:
    response = intake.client.post(
        "/replies/file?lang=en",
        data={"codename": str(Codename.generate()), "reply": "r1", "part": part},
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 404 and response.mimetype == "text/html"
    no_traceback(intake)


@pytest.mark.parametrize(
    "path",
    [
        "js/" + "a" * 4000 + ".js",
        "/".join(["js"] + ["b" * 250] * 20),
        "src/app.js",
        "src/build.js",
        "js/.gitignore",
        "js/.built-stamp",
        ".hidden",
        "css/../src/app.js",
        "build.js",
    ],
    ids=[
        "4000-chars",
        "deep",
        "src",
        "build-script",
        "gitignore",
        "stamp",
        "dotfile",
        "dotdot",
        "bare",
    ],
)
def test_sources_dotfiles_and_impossible_paths_are_not_found(intake: Intake, path: str) -> None:
    assert intake.client.get(f"/static/{path}").status_code == 404
    no_traceback(intake)


def test_static_files_carry_no_file_time(intake: Intake) -> None:
    for path in ("/static/js/app.js", "/static/css/style.css"):
        response = intake.client.get(path, headers={"Accept-Encoding": "gzip"})
        assert response.status_code == 200
        assert "Last-Modified" not in response.headers, path
        assert "ETag" not in response.headers


def identity_file(tmp_path: Path) -> Path:
    path = tmp_path / "reviewer.identity"
    path.write_text(Identity.generate().to_file_text("pass", opslimit=1, memlimit=8192))
    return path


def test_an_identity_file_as_recipient_is_refused_by_the_app(tmp_path: Path) -> None:
    config = make_config(tmp_path, [Identity.generate()])
    config["RECIPIENTS"] = [*config["RECIPIENTS"], str(identity_file(tmp_path))]
    with pytest.raises(ConfigError, match=r"contains a private key.*give the public key file"):
        load(config)


def test_an_identity_file_as_recipient_is_refused_by_init(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SEALDROP_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("SEALDROP_RECIPIENTS", str(identity_file(tmp_path)))
    result = CliRunner().invoke(cli, ["init"])
    assert result.exit_code != 0
    assert "contains a private key" in result.output and ".pub" in result.output
    assert not (tmp_path / "data").exists()  # refused before anything was made


@pytest.mark.parametrize(
    ("key", "value", "sentence"),
    [
        ("UNFINISHED_SHARE_PERCENT", "150", "percentage"),
        ("STREAMING_THREADS_PERCENT", "0", "at least 1"),
        ("UPLOAD_IDLE_MINUTES", "soon", "whole number"),
        ("SMALL_RESERVE_BYTES", str(2 << 30), "larger than SEALDROP_STORAGE_BUDGET_BYTES"),
    ],
)
def test_fairness_settings_are_checked(tmp_path: Path, key: str, value: str, sentence: str) -> None:
    config = make_config(tmp_path, [Identity.generate()], STORAGE_BUDGET_BYTES=1 << 30)
    config[key] = value
    with pytest.raises(ConfigError, match=sentence):
        load(config)


def test_the_small_slice_defaults_to_one_percent_at_least_256_mib_at_most_half(
    tmp_path: Path,
) -> None:
    def small(budget: int | None) -> int:
        extra = {} if budget is None else {"STORAGE_BUDGET_BYTES": budget}
        return load(make_config(tmp_path, [Identity.generate()], **extra)).small_reserve_bytes

    assert small(100 << 30) == 1 << 30
    assert small(20 << 30) == 256 << 20
    assert small(20 << 20) == 10 << 20
    assert small(None) == 256 << 20


class CountingBody(io.BytesIO):
    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        self.taken = 0

    def read(self, size: int | None = -1) -> bytes:
        block = super().read(size)
        self.taken += len(block)
        return block

    def readinto(self, buffer) -> int:  # type: ignore[no-untyped-def,override]
        count = super().readinto(buffer)
        self.taken += count
        return count


def test_a_declared_over_limit_no_js_post_is_refused_before_any_of_it_is_read(
    intake: Intake,
) -> None:
    """Not after reading up to twice the limit: the size is known from Content-Length."""
    limit = intake.settings.max_submission_bytes
    body = CountingBody(b"z" * (limit + limit // 2))
    response = intake.client.post(
        "/submit?lang=en",
        input_stream=body,
        content_type="multipart/form-data; boundary=b",
        headers={"Content-Length": str(limit + limit // 2)},
    )
    assert response.status_code == 413 and response.headers["Connection"] == "close"
    assert body.taken == 0
    intake.assert_nothing_stored()
