"""Headers, language, cookies, storage limits, upload expiry, export and purge, migrations."""

from __future__ import annotations

import gzip
import json
import re
import shutil
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import inspect, select
from sqlalchemy.orm import Session

from crypto import Identity
from intake import create_app
from intake.cli import main as cli
from intake.db import Submission, make_engine
from intake.export import ExportError, export_bundle, purge
from intake.setup import downgrade, init_data_dir, migrate
from intake.web import CSP

from .conftest import Intake, build, make_config
from .helpers import open_bundle, post_form, seal, upload

PAGES = [
    "/",
    "/?lang=ru",
    "/sent",
    "/static/css/style.css",
    "/favicon.ico",
    "/api/v1/config",
    "/missing",
]


@pytest.mark.parametrize("path", PAGES)
def test_security_headers_and_no_cookies_everywhere(intake: Intake, path: str) -> None:
    response = intake.client.get(path)
    headers = response.headers
    assert headers["Content-Security-Policy"] == CSP
    assert "default-src 'none'" in CSP and "frame-ancestors 'none'" in CSP
    assert headers["Referrer-Policy"] == "no-referrer"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Cross-Origin-Opener-Policy"] == "same-origin"
    assert headers["Cross-Origin-Resource-Policy"] == "same-origin"
    assert headers["Cache-Control"] == "no-store"
    assert "camera=()" in headers["Permissions-Policy"]
    assert "Set-Cookie" not in headers and "Server" not in headers


def test_the_security_headers_replace_a_views_own_once_each(intake: Intake) -> None:
    from flask import Response

    from intake.web import HEADERS, _security_headers

    own = {"Cache-Control": "max-age=60", "Set-Cookie": "a=b", "Server": "x", "Vary": "Cookie"}
    with intake.app.test_request_context("/"):
        response = _security_headers(Response("", headers={**own, "X-Own": "kept"}))
    headers = response.headers
    for name, value in HEADERS.items():
        assert headers.getlist(name) == [value]
    assert "Set-Cookie" not in headers and "Server" not in headers
    assert headers["X-Own"] == "kept"
    assert headers.getlist("Vary") == ["Cookie, Accept-Language"]


def test_errors_and_posts_carry_the_headers_too(intake: Intake) -> None:
    for response in (
        post_form(intake.client, "hello"),
        intake.client.post("/submit", data="x", content_type="text/plain"),
        intake.client.post("/api/v1/uploads", json={"size": 1}),
    ):
        assert response.headers["Content-Security-Policy"] == CSP
        assert "Set-Cookie" not in response.headers
    assert intake.client.get_cookie("session") is None


def test_form_page_contract(intake: Intake) -> None:
    html = intake.client.get("/?lang=en").get_data(as_text=True)
    for fragment in (
        '<form id="submit-form" method="post" action="/submit?lang=en" '
        'enctype="multipart/form-data"',
        '<textarea id="message" name="message"',
        '<input id="attachments" type="file" name="attachments" multiple>',
        '<button id="send" type="submit">',
        '<progress id="progress"',
        '<p id="status" role="status" aria-live="polite"></p>',
        '<script src="/static/js/app.js" defer></script>',
        "encrypted on this device before",
        '<div id="server-notice" class="notice">',
        "our server encrypts it the moment it arrives",
        "Nothing readable is written to its disk",
        "<details>",
        intake.public_key.fingerprint,
    ):
        assert fragment in html
    # The server's way shows until the script takes over (it may never load): no <noscript>.
    assert re.search(r'<div id="js-notice"[^>]* hidden>', html)
    assert "<noscript>" not in html
    assert " style=" not in html and "<style" not in html
    assert len(re.findall(r"<script", html)) == 2  # the JSON config and app.js, nothing inline
    config = json.loads(
        re.search(r'id="sealdrop-config">(.*?)</script>', html, re.S).group(1)  # type: ignore[union-attr]
    )
    assert config["recipients"] == [intake.public_key.line]
    assert config["max_bytes"] == intake.settings.max_submission_bytes
    assert config["chunk_bytes"] == 1 << 20
    assert config["sent_url"] == "/sent?lang=en"
    assert "%(percent)s" in config["messages"]["uploading"]
    assert "4 MiB" in config["messages"]["error_too_large"]
    assert set(config["messages"]) >= {
        "encrypting",
        "error_busy",
        "error_broken",
        "error_empty",
        "error_unreadable",
        "sent",
    }
    assert re.findall(r"https?://", html) == []  # nothing external


def test_russian_pages(intake: Intake) -> None:
    form = intake.client.get("/?lang=ru").get_data(as_text=True)
    assert '<html lang="ru" dir="ltr">' in form
    assert 'action="/submit?lang=ru"' in form
    assert "Отправить" in form and "Ваше сообщение" in form
    assert "шифруются на этом устройстве" in form
    assert "без JavaScript" in form and "сервер шифрует" in form
    assert '"lang": "ru"' in form and "/sent?lang=ru" in form
    assert 'href="/?lang=en"' in form  # the switcher back to English
    sent = post_form(intake.client, "привет", lang="ru")
    assert sent.status_code == 200 and "Location" not in sent.headers  # no codename in a URL
    page = sent.get_data(as_text=True)
    assert "Ваше сообщение получено" in page and "Новая личность" in page
    unknown = intake.client.get("/?lang=xx").get_data(as_text=True)
    assert unknown.count('<html lang="en" dir="ltr">') == 1


def test_upload_ids_are_random_base32(intake: Intake) -> None:
    ids = {intake.client.post("/api/v1/uploads", json={"size": 2187}).json["id"] for _ in range(3)}
    assert len(ids) == 3
    # 128 random bits, the declared size and the tick it began in (nothing is stored for it).
    assert all(re.fullmatch(r"[0-9a-f]{52}", upload_id) for upload_id in ids)


def test_api_config(intake: Intake) -> None:
    assert intake.client.get("/api/v1/config").json == {
        "recipients": [intake.public_key.line],
        "max_bytes": 4 << 20,
        "chunk_bytes": 1 << 20,
    }


def test_precompressed_static_files(intake: Intake, tmp_path: Path) -> None:
    static = Path(__file__).resolve().parents[2] / "intake" / "static" / "css"
    original = (static / "style.css").read_bytes()
    compressed = static / "style.css.gz"  # `make js` builds it; made here when it has not run
    made = not compressed.exists()
    if made:
        compressed.write_bytes(gzip.compress(original))
    try:
        zipped = intake.client.get("/static/css/style.css", headers={"Accept-Encoding": "gzip"})
        assert zipped.headers["Content-Encoding"] == "gzip"
        assert gzip.decompress(zipped.data) == original
        plain = intake.client.get("/static/css/style.css")
        assert "Content-Encoding" not in plain.headers and plain.data == original
        assert zipped.headers["Vary"] == plain.headers["Vary"] == "Accept-Encoding"
    finally:
        if made:
            compressed.unlink()
    assert intake.client.get("/static/../__init__.py").status_code == 404


def test_storage_budget_refuses_new_submissions(
    tmp_path: Path, watched_tmp: Path, captured_log
) -> None:  # type: ignore[no-untyped-def]
    intake = build(tmp_path, watched_tmp, captured_log, STORAGE_BUDGET_BYTES=9_000)
    envelope = seal([intake.public_key], "x" * 3000)  # 3 211 bytes: room for two
    assert upload(intake.client, envelope).status_code == 201
    assert upload(intake.client, envelope).status_code == 201
    full = intake.client.post("/api/v1/uploads?lang=ru", json={"size": len(envelope)})
    assert full.status_code == 507
    assert full.json["error"] == "storage-full" and "хранилище заполнено" in full.json["message"]
    page = post_form(intake.client, "x" * 3000)
    assert page.status_code == 507 and "storage is full" in page.get_data(as_text=True)
    assert intake.counts() == (2, 0)
    assert len(intake.files("blobs")) == 2 and intake.files("tmp") == []


def test_free_disk_space_is_never_used_up(tmp_path: Path, watched_tmp: Path, captured_log) -> None:  # type: ignore[no-untyped-def]
    # More than any disk here has free, whatever else runs meanwhile.
    reserve = shutil.disk_usage(tmp_path).total
    intake = build(tmp_path, watched_tmp, captured_log, DISK_RESERVE_BYTES=reserve)
    size = len(seal([intake.public_key], "hello"))
    assert intake.client.post("/api/v1/uploads", json={"size": size}).status_code == 507
    assert post_form(intake.client, "hello").status_code == 507
    intake.assert_nothing_stored()


def test_expired_uploads_are_deleted(intake: Intake) -> None:
    envelope = seal([intake.public_key], "hello")
    created = intake.client.post("/api/v1/uploads", json={"size": len(envelope)})
    upload_id = created.json["id"]
    intake.client.put(f"/api/v1/uploads/{upload_id}?offset=0", data=envelope[:100])
    store = intake.app.extensions["sealdrop"]
    assert store.cleanup() == {
        "expired_uploads": 0,
        "temp_files": 0,
        "orphan_blobs": 0,
        "orphan_uploads": 0,
    }
    assert intake.counts() == (0, 1)
    later = time.time() + 25 * 3600
    assert store.cleanup(now=later)["expired_uploads"] == 1
    assert intake.counts() == (0, 0) and intake.files("uploads") == []
    store.clock = lambda: later
    assert intake.client.get(f"/api/v1/uploads/{upload_id}").status_code == 404


def test_cleanup_removes_orphans_but_not_stored_submissions(intake: Intake) -> None:
    assert post_form(intake.client, "kept").status_code == 200
    [kept] = intake.files("blobs")
    (intake.settings.blob_dir / "orphan.sdenv").write_bytes(b"no row: a crash before commit")
    (intake.settings.tmp_dir / "stale.partial").write_bytes(b"a crash while sealing")
    (intake.settings.upload_dir / "gone.part").write_bytes(b"no row")
    counts = intake.app.extensions["sealdrop"].cleanup()
    assert counts == {"expired_uploads": 0, "temp_files": 1, "orphan_blobs": 1, "orphan_uploads": 1}
    assert intake.files("blobs") == [kept] and intake.files("tmp") == []
    assert intake.files("uploads") == []


def test_blob_times_are_rounded_to_the_hour(intake: Intake) -> None:
    assert post_form(intake.client, "hello").status_code == 200
    [blob] = intake.files("blobs")
    assert blob.stat().st_mtime % 3600 == 0
    assert blob.stat().st_mode & 0o777 == 0o600
    with Session(intake.app.extensions["sealdrop"].engine) as session:
        [row] = session.scalars(select(Submission))
        assert row.received_hour % 3600 == 0 and row.exported_hour is None


def test_export_marks_and_purge_deletes(intake: Intake, tmp_path: Path) -> None:
    post_form(intake.client, "one")
    upload(intake.client, seal([intake.public_key], "two"))
    first = export_bundle(intake.app, tmp_path / "1.tar")
    assert len(first) == 2
    assert [c.message.data for c in open_bundle(tmp_path / "1.tar", intake.identity)] != []
    post_form(intake.client, "three")
    second = export_bundle(intake.app, tmp_path / "2.tar")
    assert len(second) == 1 and second[0] not in first
    [three] = open_bundle(tmp_path / "2.tar", intake.identity)
    assert three.message is not None and three.message.data == b"three"
    assert export_bundle(intake.app, tmp_path / "3.tar") == []

    assert purge(intake.app, older_than_days=1) == []  # exported just now
    assert len(intake.files("blobs")) == 3
    assert sorted(purge(intake.app, older_than_days=0)) == sorted(first + second)
    assert intake.counts() == (0, 0) and intake.files("blobs") == []


def test_purge_never_touches_unexported(intake: Intake, tmp_path: Path) -> None:
    post_form(intake.client, "exported")
    export_bundle(intake.app, tmp_path / "1.tar")
    post_form(intake.client, "not yet")
    assert len(purge(intake.app, all_exported=True)) == 1
    assert intake.counts() == (1, 0) and len(intake.files("blobs")) == 1
    [left] = open_bundle_after_export(intake, tmp_path / "2.tar")
    assert left.message is not None and left.message.data == b"not yet"


def open_bundle_after_export(intake: Intake, path: Path):  # type: ignore[no-untyped-def]
    export_bundle(intake.app, path)
    return open_bundle(path, intake.identity)


def test_failed_export_marks_nothing(intake: Intake, tmp_path: Path) -> None:
    post_form(intake.client, "one")
    post_form(intake.client, "two")
    # A missing blob fails the export half way through.
    intake.files("blobs")[1].unlink()
    with pytest.raises(ExportError):
        export_bundle(intake.app, tmp_path / "bad.tar")
    assert list(tmp_path.glob("*bad.tar*")) == []
    # An unwritable destination too.
    with pytest.raises(ExportError):
        export_bundle(intake.app, tmp_path / "no-such-dir" / "b.tar")
    existing = tmp_path / "exists.tar"
    existing.write_bytes(b"keep me")
    with pytest.raises(ExportError):
        export_bundle(intake.app, existing)
    assert existing.read_bytes() == b"keep me"
    with Session(intake.app.extensions["sealdrop"].engine) as session:
        assert all(row.exported_hour is None for row in session.scalars(select(Submission)))


def test_migrations_upgrade_and_downgrade_on_sqlite(tmp_path: Path) -> None:
    config = make_config(tmp_path, [Identity.generate()])
    settings = init_data_dir(config)
    engine = make_engine(settings.database_url)
    columns = {c["name"] for c in inspect(engine).get_columns("submissions")}
    assert columns == {"id", "received_hour", "size", "exported_hour", "seq"}
    downgrade(settings, "base")
    assert "submissions" not in inspect(engine).get_table_names()
    with pytest.raises(Exception, match="sealdrop-intake init"):
        create_app(config)
    migrate(settings)
    assert "submissions" in inspect(engine).get_table_names()
    assert (Path(config["DATA_DIR"]).stat().st_mode & 0o777) == 0o700
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    engine.dispose()


def test_cli_init_export_purge(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    identity = Identity.generate()
    config = make_config(tmp_path, [identity])
    monkeypatch.setenv("SEALDROP_DATA_DIR", config["DATA_DIR"])
    monkeypatch.setenv("SEALDROP_RECIPIENTS", ",".join(config["RECIPIENTS"]))
    runner = CliRunner()
    result = runner.invoke(cli, ["init"])
    assert result.exit_code == 0, result.output
    assert identity.public_key.fingerprint in result.output
    app = create_app()
    post_form(app.test_client(), "via the environment")
    result = runner.invoke(cli, ["export", "--out", str(tmp_path / "b.tar")])
    assert result.exit_code == 0 and "exported 1 submission" in result.output
    [contents] = open_bundle(tmp_path / "b.tar", identity)
    assert contents.message is not None and contents.message.data == b"via the environment"
    assert runner.invoke(cli, ["purge"]).exit_code != 0
    result = runner.invoke(cli, ["purge", "--all-exported"])
    assert result.exit_code == 0 and "deleted 1" in result.output


def test_missing_configuration_is_explained(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SEALDROP_DATA_DIR", raising=False)
    result = CliRunner().invoke(cli, ["init"])
    assert result.exit_code != 0 and "SEALDROP_DATA_DIR" in result.output


def test_a_full_disk_mid_upload_is_a_readable_refusal(
    intake: Intake, monkeypatch: pytest.MonkeyPatch
) -> None:
    import errno

    from intake import sealwriter, storage

    def full(*_args: object) -> int:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(sealwriter, "write_all", full)  # a large post, sealed to a file
    monkeypatch.setattr(storage, "write_all", full)  # a small one, stored whole
    large = [("big.bin", "application/octet-stream", b"b" * (2 << 20))]
    for files in ([], large):
        response = post_form(intake.client, "hello", files, lang="ru")
        assert response.status_code == 507
        assert "хранилище заполнено" in response.get_data(as_text=True)
        intake.assert_nothing_stored()


def test_no_core_dumps(intake: Intake) -> None:
    import resource

    assert resource.getrlimit(resource.RLIMIT_CORE) == (0, 0)


def test_expired_uploads_go_when_the_app_starts_and_when_uploads_are_created(
    intake: Intake, monkeypatch: pytest.MonkeyPatch
) -> None:
    envelope = seal([intake.public_key], "hello")

    def begin() -> int:  # an upload that has sent its first bytes (a start alone is no row)
        created = intake.client.post("/api/v1/uploads", json={"size": len(envelope)})
        upload_id = created.json["id"]
        return intake.client.put(f"/api/v1/uploads/{upload_id}?offset=0", data=envelope[:100])

    for _ in range(2):
        assert begin().status_code == 200
    assert intake.counts() == (0, 2)
    real = time.time
    monkeypatch.setattr(time, "time", lambda: real() + 25 * 3600)
    store = intake.app.extensions["sealdrop"]
    store._next_expiry_check = 0.0  # the once-a-minute throttle, as after a minute
    assert intake.client.post("/api/v1/uploads", json={"size": len(envelope)}).status_code == 201
    assert intake.counts() == (0, 0)
    assert begin().status_code == 200
    assert intake.counts() == (0, 1)
    monkeypatch.setattr(time, "time", lambda: real() + 50 * 3600)
    config = {
        "DATA_DIR": str(intake.settings.data_dir),
        "RECIPIENTS": [str(p) for p in intake.settings.recipient_files],
    }
    create_app(config)
    assert intake.counts() == (0, 0) and intake.files("uploads") == []


def test_a_small_upload_sent_whole_is_stored_at_its_put(intake: Intake) -> None:
    """Issue 18: a text through the JS API costs one durable write, at its PUT; the page then
    skips finish (a retried PUT, a status check or a finish all still hear "stored")."""
    envelope = seal([intake.public_key], "hello")
    upload_id = intake.client.post("/api/v1/uploads", json={"size": len(envelope)}).json["id"]
    assert intake.files("uploads") == [] and intake.counts() == (0, 0)  # a start is a name
    put = intake.client.put(f"/api/v1/uploads/{upload_id}?offset=0", data=envelope)
    assert put.json == {"received": len(envelope), "stored": True}
    assert intake.counts() == (1, 0) and intake.files("uploads") == []
    again = intake.client.put(f"/api/v1/uploads/{upload_id}?offset=0", data=envelope)
    assert again.json == {"received": len(envelope), "stored": True}  # not stored twice
    status = intake.client.get(f"/api/v1/uploads/{upload_id}").json
    assert status == {"received": len(envelope), "size": len(envelope), "stored": True}
    assert intake.client.post(f"/api/v1/uploads/{upload_id}/finish", json={}).status_code == 201
    assert intake.counts() == (1, 0)
