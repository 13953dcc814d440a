"""Intake server figures, each next to a baseline measured in the same run, on SQLite and on
PostgreSQL (a throwaway cluster whose commits wait for the disk, as in production; skipped
with a note when PostgreSQL is not installed), then side by side:

- small submissions per second through gunicorn, next to a no-op endpoint on the same server
  and next to the disk's durable floor (what storing anything durably costs);
- the form page (GET /), next to a no-op GET;
- a 1 GiB resumable upload on loopback, next to writing the same bytes to disk;
- no-JS sealing of a 256 MiB multipart post;
- peak RSS of each gunicorn worker (VmHWM) after the large transfers;
- the submission page's first-load weight as served (tests/support/first_load.py).

Set BENCH_SIZE_MIB to shrink the large payloads for a quick look (the 1 GiB and 256 MiB
figures scale with it: 1024 and 256 by default).
"""

from __future__ import annotations

import http.client
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from flask import Flask, request

from crypto import Identity, PartInfo, Sealer, seal_bytes
from tests.deploy.helpers import free_port
from tests.support import first_load

MiB = 1 << 20
JSON = {"Content-Type": "application/json"}
ROOT = Path(__file__).resolve().parents[2]
STATIC = ROOT / "intake" / "static"
CLIENTS = 8
ROUND_SECONDS = 2.0
ROUNDS = 3


def bench_app() -> Flask:
    """The real app (configured from SEALDROP_*) plus a no-op endpoint, for gunicorn."""
    from intake import create_app

    app = create_app()

    @app.post("/bench/noop")
    def noop() -> tuple[str, int]:
        # As large reads as the app's own (intake/fairness.py): fewer, larger reads are faster
        # through gunicorn, and the baseline should be the best this server can do.
        while request.stream.read(1 << 20):
            pass
        return "", 204

    @app.get("/bench/noop")
    def noop_get() -> tuple[str, int]:
        return "", 204

    return app


# --- gunicorn ---------------------------------------------------------------------------


def _start_gunicorn(env: dict[str, str], port: int) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(
        [
            sys.executable, "-m", "gunicorn",
            "--bind", f"127.0.0.1:{port}",
            # As deploy/gunicorn.conf.py runs it.
            "--worker-class", "gthread",
            "--workers", "2",
            "--threads", "32",
            "--timeout", "300",
            "tests.bench.intake_bench:bench_app()",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return process
        except OSError:
            if process.poll() is not None:
                raise RuntimeError("gunicorn exited at start") from None
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("gunicorn did not start")


def _workers(master: int) -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == master:
                pids.append(int(entry.name))
    return sorted(pids)


def _peak_rss_mib(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    match = re.search(r"VmHWM:\s+(\d+) kB", status)
    return int(match.group(1)) / 1024 if match else float("nan")


# --- HTTP client ------------------------------------------------------------------------


class Client:
    def __init__(self, port: int) -> None:
        self.port = port

    def request(
        self, method: str, path: str, body: bytes | Iterator[bytes] | None = None, **headers: str
    ) -> tuple[int, bytes]:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=300)
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            return response.status, response.read()
        finally:
            connection.close()


def _rate(operation: Callable[[], None]) -> float:
    """Operations per second with CLIENTS threads for ROUND_SECONDS."""
    count = [0] * CLIENTS
    stop = time.monotonic() + ROUND_SECONDS

    def loop(index: int) -> None:
        while time.monotonic() < stop:
            operation()
            count[index] += 1

    threads = [threading.Thread(target=loop, args=(i,)) for i in range(CLIENTS)]
    start = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(count) / (time.monotonic() - start)


def _alternate(operations: dict[str, Callable[[], None]]) -> dict[str, float]:
    rates: dict[str, list[float]] = {name: [] for name in operations}
    for _ in range(ROUNDS):
        for name, operation in operations.items():
            rates[name].append(_rate(operation))
    return {name: statistics.median(values) for name, values in rates.items()}


# --- the measurements -------------------------------------------------------------------


def small_submissions(client: Client, envelope: bytes) -> dict[str, float]:
    def check(status: int, expected: int) -> None:
        if status != expected:
            raise RuntimeError(f"unexpected HTTP {status}")

    def js_submission() -> None:
        status, body = client.request(
            "POST", "/api/v1/uploads", f'{{"size": {len(envelope)}}}'.encode(),
            **{"Content-Type": "application/json"},
        )  # fmt: skip
        check(status, 201)
        upload_id = body.split(b'"id":"', 1)[1].split(b'"', 1)[0].decode()
        status, body = client.request("PUT", f"/api/v1/uploads/{upload_id}?offset=0", envelope)
        check(status, 200)
        if b'"stored":true' not in body:  # as the page: a text sent whole needs no finish
            check(
                client.request("POST", f"/api/v1/uploads/{upload_id}/finish", b"{}", **JSON)[0], 201
            )

    def two_noops() -> None:
        for _ in range(2):
            check(client.request("POST", "/bench/noop", envelope)[0], 204)

    boundary = "benchboundary"
    form = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="message"\r\n\r\n'
        + "m" * 2000
        + f"\r\n--{boundary}--\r\n"
    ).encode()
    form_type = {"Content-Type": f"multipart/form-data; boundary={boundary}"}

    def nojs_submission() -> None:
        check(client.request("POST", "/submit", form, **form_type)[0], 200)

    def one_noop() -> None:
        check(client.request("POST", "/bench/noop", form)[0], 204)

    def page() -> None:
        check(client.request("GET", "/?lang=en")[0], 200)

    def noop_get() -> None:
        check(client.request("GET", "/bench/noop")[0], 204)

    rates = _alternate(
        {
            "js": js_submission,
            "noop2": two_noops,
            "nojs": nojs_submission,
            "noop": one_noop,
            "page": page,
            "noop_get": noop_get,
        }
    )
    print(f"  small JS submissions (2 KiB envelope, 2 requests): {rates['js']:7.1f}/s")
    print(f"  no-op baseline, 2 requests each:                   {rates['noop2']:7.1f}/s")
    print(f"    ratio {rates['js'] / rates['noop2']:.2f}  (target >= 0.5)")
    print(f"  small no-JS submissions (2 KB message, 1 request):  {rates['nojs']:7.1f}/s")
    print(f"  no-op baseline, 1 request:                         {rates['noop']:7.1f}/s")
    print(f"  the form page, GET /:                              {rates['page']:7.1f}/s")
    print(f"  no-op GET:                                         {rates['noop_get']:7.1f}/s")
    print(f"    ratio {rates['page'] / rates['noop_get']:.2f}  (target >= 0.5)")
    return rates


def durable_floor(directory: Path, postgres_url: str | None = None) -> float:
    """Per second, with the same concurrency: what every stored submission must pay the disk
    (write and fsync a file, rename it, fsync the directory, commit a row: SQLite with
    synchronous=FULL, or the PostgreSQL database the server uses), without HTTP or crypto."""
    import sqlite3

    directory.mkdir()
    database = directory / "floor.db"
    if postgres_url is None:
        with sqlite3.connect(database) as setup:
            setup.execute("PRAGMA journal_mode=WAL")
            setup.execute("CREATE TABLE t (id TEXT PRIMARY KEY)")
    else:
        import psycopg
        from sqlalchemy.engine import make_url

        url = make_url(postgres_url)
        dsn = {"dbname": url.database, "user": url.username, "host": url.query["host"]}
        with psycopg.connect(**dsn, autocommit=True) as setup:  # type: ignore[arg-type]
            setup.execute("CREATE TABLE IF NOT EXISTS bench_floor (id TEXT PRIMARY KEY)")
    data = os.urandom(2300)
    local = threading.local()

    def connect() -> object:
        if postgres_url is None:
            db = sqlite3.connect(database, timeout=30, check_same_thread=False)
            db.execute("PRAGMA synchronous=FULL")
            return db
        db = psycopg.connect(**dsn)  # type: ignore[arg-type]
        db.execute("SET synchronous_commit TO on")
        return db

    table = "t" if postgres_url is None else "bench_floor"
    marker = "?" if postgres_url is None else "%s"

    def store() -> None:
        if not hasattr(local, "db"):
            local.db = connect()
        name = os.urandom(8).hex()
        path = directory / f"{name}.tmp"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        os.write(fd, data)
        os.fsync(fd)
        os.close(fd)
        os.rename(path, directory / name)
        dir_fd = os.open(directory, os.O_RDONLY)
        os.fsync(dir_fd)
        os.close(dir_fd)
        local.db.execute(f"INSERT INTO {table} VALUES ({marker})", (name,))
        local.db.commit()

    rate = statistics.median(_rate(store) for _ in range(ROUNDS))
    shutil.rmtree(directory)
    return rate


def mailbox_ceiling() -> float:
    """No-JS texts per second that the server's share of a new codename allows by itself:
    the mailbox id is stretched with PBKDF2 (crypto/mailbox.py, FORMAT.md 5.8) on the
    server for a no-JS text (the browser does it for a JS one), on every core at once. The
    durable floor is I/O only, so a no-JS text cannot reach half of it where this is lower."""
    from crypto import mailbox

    master, salt = os.urandom(32), os.urandom(mailbox.SALT_BYTES)
    start = time.process_time()
    for _ in range(20):
        mailbox.v2_id(master, salt)
    return (os.cpu_count() or 1) * 20 / (time.process_time() - start)


def _seal_file(path: Path, identity: Identity, size: int) -> None:
    block = os.urandom(MiB)
    with open(path, "wb") as out:
        sealer = Sealer(out, [identity.public_key])
        sealer.begin_part(PartInfo("file", "big.bin", "application/octet-stream"))
        for _ in range(size // MiB):
            sealer.write(block)
        sealer.end_part()
        sealer.close()


def _disk_copy(source: Path, target: Path) -> float:
    start = time.monotonic()
    with open(source, "rb") as src, open(target, "wb") as out:
        while block := src.read(MiB):
            out.write(block)
        out.flush()
        os.fsync(out.fileno())
    elapsed = time.monotonic() - start
    target.unlink()
    return elapsed


def _upload_file(client: Client, path: Path) -> float:
    size = path.stat().st_size
    start = time.monotonic()
    status, body = client.request(
        "POST", "/api/v1/uploads", f'{{"size": {size}}}'.encode(),
        **{"Content-Type": "application/json"},
    )  # fmt: skip
    if status != 201:
        raise RuntimeError(f"upload refused: {status} {body!r}")
    upload_id = body.split(b'"id":"', 1)[1].split(b'"', 1)[0].decode()
    connection = http.client.HTTPConnection("127.0.0.1", client.port, timeout=300)
    with open(path, "rb") as source:
        offset = 0
        while block := source.read(MiB):
            # A new connection per chunk, as after every interruption over Tor.
            connection = http.client.HTTPConnection("127.0.0.1", client.port, timeout=300)
            connection.request("PUT", f"/api/v1/uploads/{upload_id}?offset={offset}", block)
            response = connection.getresponse()
            answer = response.read()
            connection.close()
            if response.status != 200:
                raise RuntimeError(f"chunk refused: {response.status} at {offset}: {answer!r}")
            offset += len(block)
    status, body = client.request("POST", f"/api/v1/uploads/{upload_id}/finish", b"{}", **JSON)
    if status != 201:
        raise RuntimeError(f"finish refused: {status} {body!r}")
    return time.monotonic() - start


def _noop_chunks(client: Client, path: Path) -> float:
    """The same chunks to the no-op endpoint: what gunicorn and Flask cost by themselves."""
    start = time.monotonic()
    with open(path, "rb") as source:
        while block := source.read(MiB):
            if client.request("POST", "/bench/noop", block)[0] != 204:
                raise RuntimeError("no-op refused")
    return time.monotonic() - start


def _multipart_body(size: int, boundary: str) -> tuple[int, Callable[[], Iterator[bytes]]]:
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="message"\r\n\r\nbench\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="attachments"; '
        f'filename="big.bin"\r\nContent-Type: application/octet-stream\r\n\r\n'
    ).encode()
    tail = f"\r\n--{boundary}--\r\n".encode()
    block = os.urandom(MiB).replace(b"\r", b"\x00").replace(b"\n", b"\x00")

    def body() -> Iterator[bytes]:
        yield head
        for _ in range(size // MiB):
            yield block
        yield tail

    return len(head) + size + len(tail), body


def _post_nojs(client: Client, size: int, path: str = "/submit") -> float:
    # Shaped as Firefox's (intake/resend.py): a browser's post is hashed as it streams, to
    # know it again if it is sent twice, and the figure should include that. Each body is
    # posted once, so it is never taken for a resend.
    boundary = "----geckoformboundary" + os.urandom(16).hex()
    length, body = _multipart_body(size, boundary)
    start = time.monotonic()
    status, _ = client.request(
        "POST", path, body(),
        **{"Content-Type": f"multipart/form-data; boundary={boundary}",
           "Content-Length": str(length)},
    )  # fmt: skip
    if status not in (200, 204):
        raise RuntimeError(f"no-JS post refused: {status}")
    return time.monotonic() - start


def page_weight(client: Client) -> None:
    """Bytes on the wire for the submission page's first load (tests/support/first_load.py:
    what it really loads, sodium.js not among them), fetched as a browser would (gzip
    accepted), per language."""
    print("  submission page, first load, bytes on the wire with Accept-Encoding: gzip:")
    for lang in ("en", "ru"):
        status, html = client.request("GET", f"/?lang={lang}")
        if status != 200:
            raise RuntimeError(f"/?lang={lang}: HTTP {status}")
        total = 0
        listed = []
        for path in first_load.paths(html.decode(), lang):
            connection = http.client.HTTPConnection("127.0.0.1", client.port, timeout=60)
            connection.request("GET", path, headers={"Accept-Encoding": "gzip"})
            response = connection.getresponse()
            body = response.read()
            connection.close()
            if response.status != 200:
                raise RuntimeError(f"{path}: HTTP {response.status}")
            encoding = response.getheader("Content-Encoding") or "identity"
            listed.append(f"{path.rsplit('/', 1)[-1]} {len(body) / 1000:.1f} ({encoding})")
            total += len(body)
        target = first_load.TARGET_BYTES / 1000
        print(
            f"    {lang}: {total / 1000:5.1f} KB  (target <= {target:.0f} KB)   {', '.join(listed)}"
        )
    if not (STATIC / "js" / "worker.js").is_file():
        print("    (no JS bundle built yet: run `make js`)")


def measure(work_dir: Path, database_url: str | None, scale: int) -> dict[str, float]:
    """Every figure against one database (None: SQLite in the data directory)."""
    from intake.setup import init_data_dir

    big, form_size = scale * MiB, max(scale // 4, 1) * MiB
    figures: dict[str, float] = {}
    identity = Identity.generate()
    key = work_dir / "reviewer.pub"
    key.write_text(identity.public_key.line + "\n")
    env = {
        **os.environ,
        "SEALDROP_DATA_DIR": str(work_dir / "data"),
        "SEALDROP_RECIPIENTS": str(key),
        "SEALDROP_MAX_SUBMISSION_BYTES": str(big + 64 * MiB),
    }
    config: dict[str, object] = {"DATA_DIR": env["SEALDROP_DATA_DIR"], "RECIPIENTS": [str(key)]}
    if database_url is not None:
        env["SEALDROP_DATABASE_URL"] = config["DATABASE_URL"] = database_url
    init_data_dir(config)
    port = free_port()
    server = _start_gunicorn(env, port)
    try:
        client = Client(port)
        rates = small_submissions(client, seal_bytes([identity.public_key], "m" * 1800))
        floor = durable_floor(work_dir / "floor", database_url)
        print(f"  the disk's floor, fsync file + rename + fsync dir + commit: {floor:7.1f}/s")
        print(f"    no-JS submissions / floor {rates['nojs'] / floor:.2f}  (target >= 0.5)")
        print(f"  the mailbox id's PBKDF2 alone, on every core: {mailbox_ceiling():7.1f}/s"
              "  (a no-JS text's own CPU, which the floor has not)")  # fmt: skip
        figures.update(
            nojs=rates["nojs"],
            floor=floor,
            nojs_ratio=rates["nojs"] / floor,
            js=rates["js"],
            js_ratio=rates["js"] / rates["noop2"],
            page=rates["page"],
            page_ratio=rates["page"] / rates["noop_get"],
        )
        envelope = work_dir / "big.sdenv"
        _seal_file(envelope, identity, big)
        size = envelope.stat().st_size
        disk = _disk_copy(envelope, work_dir / "copy.bin")
        upload = _upload_file(client, envelope)
        print(f"  {size / MiB:.0f} MiB chunked upload: {size / upload / MiB:7.1f} MiB/s")
        print(f"  writing the same bytes to disk:    {size / disk / MiB:7.1f} MiB/s")
        print(f"    ratio {disk / upload:.2f}  (target >= 0.5)")
        figures.update(
            upload=size / upload / MiB, disk=size / disk / MiB, upload_ratio=disk / upload
        )
        noop = _noop_chunks(client, envelope)
        print(f"  the same chunks to the no-op:      {size / noop / MiB:7.1f} MiB/s"
              "  (gunicorn + Flask alone)")  # fmt: skip
        print(f"    ratio to the no-op {noop / upload:.2f}  (for reference: see below)")
        figures["upload_noop_ratio"] = noop / upload
        envelope.unlink()
        nojs = _post_nojs(client, form_size)
        noop = _post_nojs(client, form_size, "/bench/noop")
        print(f"  no-JS sealing of a {form_size / MiB:.0f} MiB multipart post: "
              f"{form_size / nojs / MiB:7.1f} MiB/s")  # fmt: skip
        print(f"  the same post to the no-op:        {form_size / noop / MiB:7.1f} MiB/s")
        print(f"    ratio {noop / nojs:.2f}  (target >= 0.5)")
        figures.update(post=form_size / nojs / MiB, post_ratio=noop / nojs)
        peaks = [_peak_rss_mib(pid) for pid in _workers(server.pid)]
        listed = ", ".join(f"{peak:.0f}" for peak in peaks)
        print(f"  peak RSS per worker: {listed} MiB  (target < 100 MiB)")
        figures["rss"] = max(peaks)
        if database_url is None:
            page_weight(client)
    finally:
        server.terminate()
        server.wait(timeout=30)
    shutil.rmtree(work_dir / "data", ignore_errors=True)
    return figures


SUMMARY: list[tuple[str, str, float | None]] = [
    ("small no-JS submissions / the disk's durable floor", "nojs_ratio", 0.5),
    ("small JS submissions (2 requests) / their no-op", "js_ratio", 0.5),
    ("the form page (GET /) / a no-op GET", "page_ratio", 0.5),
    ("1 GiB chunked upload / disk write", "upload_ratio", 0.5),
    ("1 GiB chunked upload / the same chunks to the no-op", "upload_noop_ratio", None),
    ("no-JS 256 MiB post / the same post to the no-op", "post_ratio", 0.5),
]
# Why the upload has two ratios: "disk write" copies the file through the page cache (its one
# fsync at the end is cheap here), faster than gunicorn and Flask take 1 MiB chunks over
# loopback at all, even into an endpoint that discards them. Half of it can then be out of
# reach of any app behind this server; the no-op ratio says what the app itself costs.
UPLOAD_NOTE = (
    "  (the disk write is page-cache speed, often faster than the no-op takes the same chunks:\n"
    "   then >= 0.5 of it is out of reach for any app behind gunicorn + Flask, and the no-op\n"
    "   ratio is what measures this app's own cost; the target stays as the issue set it)"
)


def run() -> None:
    scale = int(os.environ.get("BENCH_SIZE_MIB", "1024"))
    results: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory(prefix="sealdrop-bench-", dir=ROOT / ".data" if (
        ROOT / ".data"
    ).is_dir() else None) as work:  # fmt: skip
        print("\n== intake on SQLite: gunicorn (gthread, 2 workers x 32 threads) on 127.0.0.1 ==")
        (Path(work) / "sqlite").mkdir()
        results["SQLite"] = measure(Path(work) / "sqlite", None, scale)
        try:
            from tests.support.postgres import PostgresUnavailable, throwaway_cluster
        except ImportError as exc:  # psycopg is not installed
            print(f"\n== intake on PostgreSQL: not available ({exc}) ==")
        else:
            print("\n== intake on PostgreSQL (fsync and synchronous_commit on): the same ==")
            try:
                with throwaway_cluster(durable=True) as cluster:
                    (Path(work) / "postgresql").mkdir()
                    url = cluster.new_database()
                    results["PostgreSQL"] = measure(Path(work) / "postgresql", url, scale)
            except PostgresUnavailable as exc:
                print(f"  not available: {exc}")
    names = list(results)
    print("\n== intake, side by side (ratios measured in this run; target in brackets) ==")
    print(f"  {'':52s}" + "".join(f"{name:>12s}" for name in names))
    for title, key, target in SUMMARY:
        values = "".join(f"{results[name][key]:12.2f}" for name in names)
        bracket = f"(>= {target})" if target is not None else "(for reference)"
        print(f"  {title:52s}{values}   {bracket}")
    print(UPLOAD_NOTE)
    rss = "".join(f"{results[name]['rss']:12.0f}" for name in names)
    print(f"  {'peak RSS per worker, MiB':52s}{rss}   (< 100)")


if __name__ == "__main__":
    run()
