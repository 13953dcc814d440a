"""The reviewer opening bundles, next to age and gpg decrypting the same bytes, in one run.

1. One submission of BENCH_SIZE_MIB (default 1 GiB), sealed as format v1 and as v2:
   ``sealdrop-reviewer open`` on the bundle (tar read, SHA-256 check, decryption, plaintext
   written to the vault and fsynced), next to ``age -d`` (X25519 identity), ``age -d`` then
   fsync, and ``gpg --decrypt`` (a test Curve25519 key, no compression: the path SecureDrop's
   viewing station uses) writing the same number of bytes to the same disk. Targets: v1 within
   1.2x and v2 within 1.0x of age -d then fsync; faster than gpg.
2. One bundle of 10,000 (BENCH_SMALL_COUNT) small submissions opened. Target: under 30 s.

Every tool runs as its own process, timed from start to exit, its peak RSS taken by GNU time;
the rounds alternate the tools and the median is reported. The reviewer's identity file uses
cheap Argon2id settings so that the figures are about opening; a MODERATE unlock (what keygen
writes) is timed on its own and printed alongside.
"""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from crypto import Identity, Sealer
from crypto.bundle import BundleWriter
from reviewer.epochs import top_up
from reviewer.vault import Vault

GiB = 1 << 30
TIME = "/usr/bin/time"  # GNU time (Debian's package "time", tests/install-system-deps.sh)
PASSPHRASE = "bench passphrase"
SMALL_COUNT = int(os.environ.get("BENCH_SMALL_COUNT", "10000"))


def _timed(argv: list[str | Path], env: dict[str, str] | None = None) -> tuple[float, float, float]:
    """Seconds from start to exit, CPU seconds (user + system), and peak RSS in MiB, of one
    process. CPU time is the figure to trust on a busy machine."""
    # Through GNU time, a small process: Linux counts in a process's peak RSS the memory of the
    # one that started it (kept at exec), so a tool started straight from this large bench
    # would show the bench's peak, not its own. Time's start-up is in the wall and CPU figures
    # of every tool alike.
    with tempfile.NamedTemporaryFile("r") as peak_file:
        start = time.perf_counter()
        process = subprocess.Popen(
            [TIME, "-f", "%M", "-o", peak_file.name, *(str(a) for a in argv)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            env={**os.environ, **(env or {})},
        )
        _, status, usage = os.wait4(process.pid, 0)
        elapsed = time.perf_counter() - start
        process.returncode = os.waitstatus_to_exitcode(status)
        stderr = process.stderr.read().decode(errors="replace") if process.stderr else ""
        if process.returncode != 0:
            raise RuntimeError(f"{argv[0]} failed: {stderr.strip()}")
        peak_kib = int(peak_file.read().split()[-1])
    return elapsed, usage.ru_utime + usage.ru_stime, peak_kib / 1024


def _payload(path: Path, size: int) -> str:
    digest = hashlib.sha256()
    block = os.urandom(1 << 20)
    with path.open("wb") as out:
        for offset in range(0, size, len(block)):
            piece = block[: min(len(block), size - offset)]
            piece = hashlib.sha256(offset.to_bytes(8, "big")).digest() + piece[32:]
            digest.update(piece)
            out.write(piece)
    return digest.hexdigest()


def _bundle(path: Path, envelopes: list[tuple[str, Path | bytes]]) -> None:
    with path.open("wb") as out:
        writer = BundleWriter(out)
        for submission_id, envelope in envelopes:
            if isinstance(envelope, bytes):
                writer.add(submission_id, "2026-11-24T12:00Z", io.BytesIO(envelope), len(envelope))
            else:
                with envelope.open("rb") as source:
                    writer.add(submission_id, "2026-11-24T12:00Z", source, envelope.stat().st_size)
        writer.close()


def _reviewer(bundle: Path, vault: Path, key: Path, passphrase: Path) -> list[str | Path]:
    script = Path(sys.executable).with_name("sealdrop-reviewer")
    return [script, "open", bundle, "--vault", vault, "--key", key, "--passphrase-file", passphrase]


def _gpg_setup(home: Path, payload: Path, out: Path) -> None:
    home.mkdir(mode=0o700)
    env = {**os.environ, "GNUPGHOME": str(home)}
    quiet = {"env": env, "check": True, "capture_output": True}
    user = "bench <bench@example.invalid>"
    batch = ["gpg", "--batch", "--pinentry-mode", "loopback", "--passphrase", ""]
    subprocess.run([*batch, "--quick-gen-key", user, "future-default", "default", "never"], **quiet)
    encrypt = ["--yes", "--trust-model", "always", "--compress-algo", "none", "-r", user]
    subprocess.run([*batch, *encrypt, "-o", str(out), "-e", str(payload)], **quiet)


def _gpg_stop(home: Path) -> None:
    subprocess.run(
        ["gpgconf", "--kill", "gpg-agent"],
        env={**os.environ, "GNUPGHOME": str(home)},
        check=False,
        capture_output=True,
    )


def _remove(*paths: Path) -> None:
    for path in paths:
        if path.is_dir():
            shutil.rmtree(path)
        else:
            path.unlink(missing_ok=True)


def _vault_digest(vault: Path) -> str:
    (part,) = (vault / "submissions").glob("*/part-000")
    digest = hashlib.sha256()
    with part.open("rb") as source:
        while block := source.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def run(size: int | None = None, rounds: int = 3) -> None:
    size = size or int(os.environ.get("BENCH_SIZE_MIB", "1024")) << 20
    print(
        f"\n(reviewer bench: load average before {os.getloadavg()[0]:.1f}, {os.cpu_count()} CPUs)"
    )
    missing = [tool for tool in ("age", "age-keygen", "gpg") if shutil.which(tool) is None]
    with tempfile.TemporaryDirectory(prefix="sealdrop-bench-", dir="/var/tmp") as tmp:
        work = Path(tmp)
        identity = Identity.generate()
        key = work / "identity.key"
        key.write_text(identity.to_file_text(PASSPHRASE, opslimit=1, memlimit=8192))
        passphrase = work / "passphrase"
        passphrase.write_text(PASSPHRASE + "\n")

        payload = work / "payload"
        expected = _payload(payload, size)
        bundles = {}
        for version in (1, 2):
            envelope = work / "payload.sdenv"
            with (
                envelope.open("wb") as out,
                payload.open("rb") as source,
                Sealer(out, [identity.public_key], version=version) as sealer,
            ):
                sealer.add_file("payload.bin", "application/octet-stream", source)
            bundles[version] = work / f"one-v{version}.tar"
            _bundle(bundles[version], [("one", envelope)])
            _remove(envelope)

        Steps = list[list[str | Path]]
        commands: dict[str, tuple[Steps, dict[str, str] | None, list[Path]]] = {}
        for version in (2, 1):
            vault = work / f"vault-v{version}"
            argv = _reviewer(bundles[version], vault, key, passphrase)
            # Between rounds only what the open added goes: the vault itself stays, as a
            # reviewer's does (with its runway of weekly keys, made by the first open).
            outputs = [vault / "submissions", vault / "index"]
            top_up(Vault(vault), identity)
            commands[f"sealdrop-reviewer open, v{version}"] = ([argv], None, outputs)
        if "age" not in missing and "age-keygen" not in missing:
            subprocess.run(["age-keygen", "-o", work / "age.key"], check=True, capture_output=True)
            recipient = subprocess.run(
                ["age-keygen", "-y", work / "age.key"], check=True, capture_output=True, text=True
            ).stdout.strip()
            subprocess.run(
                ["age", "-r", recipient, "-o", work / "payload.age", payload], check=True
            )
            out = work / "age.out"
            age = ["age", "-d", "-i", work / "age.key", "-o", out, work / "payload.age"]
            commands["age -d"] = ([age], None, [out])
            # The reviewer fsyncs what it writes before publishing it in the vault (a crash
            # must never leave a truncated file looking whole); age does not. This row adds
            # that step to age, for a like-for-like figure.
            commands["age -d, then fsync"] = ([age, ["sync", out]], None, [out])
        gpg_home = work / "gnupg"
        if "gpg" not in missing:
            _gpg_setup(gpg_home, payload, work / "payload.gpg")
            out = work / "gpg.out"
            gpg = ["gpg", "--batch", "--yes", "--quiet", "-o", out, "-d", work / "payload.gpg"]
            commands["gpg --decrypt"] = ([gpg], {"GNUPGHOME": str(gpg_home)}, [out])
        _remove(payload)

        results: dict[str, list[tuple[float, float, float]]] = {name: [] for name in commands}
        try:
            for _ in range(rounds):
                for name, (steps, env, outputs) in commands.items():
                    os.sync()  # start each tool with no one else's writes pending
                    timings = [_timed(argv, env) for argv in steps]
                    results[name].append(
                        (
                            sum(t[0] for t in timings),
                            sum(t[1] for t in timings),
                            max(t[2] for t in timings),
                        )
                    )
                    if name.startswith("sealdrop") and _vault_digest(outputs[0].parent) != expected:
                        raise RuntimeError("the vault's copy differs from the payload")
                    _remove(*outputs)
        finally:
            _gpg_stop(gpg_home)

        def median(name: str, column: int = 0) -> float:
            return statistics.median(row[column] for row in results[name])

        ours_name = "sealdrop-reviewer open, v2"
        ours, ours_cpu = median(ours_name), median(ours_name, 1)
        print(
            f"\n== reviewer: open a bundle of one {size / GiB:.2f} GiB submission "
            f"(median of {rounds} alternating rounds) =="
        )
        print(
            f"{'tool':<28}{'wall s':>8}{'MB/s':>7}{'wall ratio':>12}"
            f"{'CPU s':>8}{'CPU ratio':>11}{'peak RSS MiB':>14}"
        )
        for name in results:
            seconds, cpu = median(name), median(name, 1)
            peak = max(row[2] for row in results[name])
            print(
                f"{name:<28}{seconds:>8.2f}{size / seconds / 1e6:>7.0f}{ours / seconds:>11.2f}x"
                f"{cpu:>8.2f}{ours_cpu / cpu:>10.2f}x{peak:>14.1f}"
            )
        print("(ratio = the reviewer's v2 open time / this tool's time)")
        if missing:
            print(f"(not installed, not measured: {', '.join(missing)})")
        if "age -d" in results:
            age_sync = median("age -d, then fsync")
            for version, target in ((1, 1.2), (2, 1.0)):
                mine = median(f"sealdrop-reviewer open, v{version}")
                print(
                    f"reviewer v{version} / (age -d, then fsync): {mine / age_sync:.2f} wall "
                    f"(target <= {target}); / age -d: {mine / median('age -d'):.2f}"
                )
        if "gpg --decrypt" in results:
            print(f"reviewer v2 / gpg: {ours / median('gpg --decrypt'):.2f} wall (target < 1.0)")
        for version in (1, 2):
            _stages(bundles[version], identity, work, version)
            _remove(bundles[version])

        _small(work, identity, key, passphrase)
        _unlock_cost(work, identity)
    print(f"(reviewer bench: load average after {os.getloadavg()[0]:.1f})")


def _stages(bundle: Path, identity: Identity, work: Path, version: int) -> None:
    """Where the reviewer's time goes, in this process: each row adds one stage."""
    from crypto import DirectorySink, NullSink, open_envelope
    from crypto.bundle import Bundle, CheckedReader
    from reviewer.streaming import Prefetcher, SpanReader

    print(f"reviewer stages, v{version} (in process; each row adds a stage):")
    with Bundle(bundle) as opened:
        (entry,) = opened.entries
        fd = os.open(bundle, os.O_RDONLY)
        try:
            for label in ("read + SHA-256", "+ decrypt", "+ write and fsync"):
                os.sync()
                before, start = os.times(), time.perf_counter()
                reader = CheckedReader(entry, SpanReader(fd, *opened.span(entry)))
                source = Prefetcher(reader, lambda n: None)
                if label == "read + SHA-256":
                    while source.read():
                        pass
                elif label == "+ decrypt":
                    open_envelope(source, [identity], NullSink())  # type: ignore[arg-type]
                else:
                    target = work / "stage-vault" / "one"
                    open_envelope(source, [identity], DirectorySink(target))  # type: ignore[arg-type]
                source.check()
                after = os.times()
                cpu = after.user - before.user + after.system - before.system
                print(f"  {label:<24}{time.perf_counter() - start:>8.2f} s wall{cpu:>8.2f} s CPU")
                _remove(work / "stage-vault")
        finally:
            os.close(fd)


def _small(work: Path, identity: Identity, key: Path, passphrase: Path) -> None:
    start = time.perf_counter()
    envelopes = []
    for index in range(SMALL_COUNT):
        out = io.BytesIO()
        with Sealer(out, [identity.public_key]) as sealer:
            sealer.add_message(f"small submission number {index}: " + "x" * (index % 700))
            if index % 10 == 0:
                sealer.add_file("note.txt", "text/plain", os.urandom(3000))
        envelopes.append((f"s{index:05d}", out.getvalue()))
    bundle = work / "small.tar"
    _bundle(bundle, envelopes)
    built = time.perf_counter() - start
    vault = work / "small-vault"
    os.sync()
    seconds, cpu, peak = _timed(_reviewer(bundle, vault, key, passphrase))
    opened = len(list((vault / "submissions").iterdir()))
    if opened != SMALL_COUNT:
        raise RuntimeError(f"only {opened} of {SMALL_COUNT} small submissions were opened")
    print(
        f"\n== reviewer: open a bundle of {SMALL_COUNT:,} small submissions "
        f"({bundle.stat().st_size / 1e6:.1f} MB; built in {built:.1f} s) =="
    )
    print(
        f"sealdrop-reviewer open: {seconds:.1f} s wall ({cpu:.1f} s CPU), "
        f"{SMALL_COUNT / seconds:,.0f} per second, peak RSS {peak:.1f} MiB (target < 30 s)"
    )
    _remove(bundle, vault)


def _unlock_cost(work: Path, identity: Identity) -> None:
    text = identity.to_file_text(PASSPHRASE)  # MODERATE, as keygen writes
    start = time.perf_counter()
    Identity.from_file_text(text, PASSPHRASE)
    seconds = time.perf_counter() - start
    print(f"identity unlock with Argon2id MODERATE (once per open): {seconds:.2f} s")


if __name__ == "__main__":
    run()
