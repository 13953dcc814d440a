"""Opening a bundle with weekly keys: this week's opens; a week over for longer than the
grace is deleted by the open itself, and a late submission sealed to it says why."""

from __future__ import annotations

import shutil
import time

import pytest
from click.testing import CliRunner
from inbox_helpers import opened_vault
from reviewer_helpers import write_bundle

from crypto import Identity, seal_bytes
from crypto.bundle import Bundle
from crypto.epochs import WEEK
from reviewer import epochs as runway
from reviewer import opening
from reviewer import runway as reviewer_runway
from reviewer.cli import main
from reviewer.vault import Vault, VaultError


def test_open_uses_this_weeks_key_and_refuses_a_deleted_week_by_name(tmp_path) -> None:
    vault = Vault(tmp_path / "vault")
    identity = Identity.generate()
    long_ago = time.time() - 20 * WEEK
    old_weeks = [
        k for k in runway.for_opening(vault, identity, long_ago) if isinstance(k, Identity)
    ]
    now_keys = [k for k in runway.for_opening(vault, identity) if isinstance(k, Identity)]
    current = runway.top_up(vault, identity)  # what the page would seal to this week
    this_week = next(k for k in now_keys if k.public_key.line in current.split("\n")[4])
    envelopes = {
        "late": seal_bytes([old_weeks[0].public_key], "sealed twenty weeks ago"),
        "fresh": seal_bytes([this_week.public_key], "sealed this week"),
    }
    path = tmp_path / "b.tar"
    write_bundle(path, envelopes)
    with Bundle(path) as bundle:
        todo, _ = opening.plan(bundle, vault)
        outcomes = {o.id: o for o in opening.open_entries(bundle, vault, todo, [identity])}
    assert outcomes["fresh"].status == opening.OPENED
    late = outcomes["late"]
    assert late.status == opening.FAILED
    assert "sealed to the week ending" in late.detail
    assert "whose key was deleted for your safety on" in late.detail
    assert vault.ids() == ["fresh"]
    assert runway.lapse_warning(vault) is None  # the open topped the runway up


def test_the_lapse_is_the_sooner_of_the_vaults_runway_and_what_the_server_was_sent(tmp_path):
    vault = Vault(tmp_path / "vault")
    assert reviewer_runway.ends_soon(vault) is None  # never had weekly keys: nothing to say
    identity = Identity.generate()
    statement = runway.top_up(vault, identity)
    end = reviewer_runway.runway_end(vault)
    assert end is not None and reviewer_runway.ends_soon(vault) is None  # 13 weeks ahead
    three_weeks_before = end - reviewer_runway.WARN_DAYS * 86400 + 3600
    assert reviewer_runway.ends_soon(vault, three_weeks_before) == reviewer_runway.Lapse(
        end, unsent=False
    )
    sent = int(time.time()) + 86400  # the server's copy ends first: exporting is enough
    vault.set_config(epochs_sent_until=sent)
    assert reviewer_runway.ends_soon(vault) == reviewer_runway.Lapse(sent, unsent=True)
    runway.mark_sent(vault, statement)  # an export sends the whole runway
    assert reviewer_runway.sent_until(vault) == end
    assert reviewer_runway.ends_soon(vault) is None


def test_the_cli_open_makes_new_weeks_from_a_bundle_with_nothing_new(tmp_path, keys) -> None:
    vault = opened_vault(tmp_path, keys)
    shutil.rmtree(vault / "epochs")
    runway.top_up(Vault(vault), keys.identity, time.time() - 12 * WEEK)  # ends in 1-2 weeks
    assert reviewer_runway.ends_soon(Vault(vault)) is not None
    bundle, secret = tmp_path / "caseload.tar", keys.passphrase_file
    args = ["open", str(bundle), "--vault", str(vault), "--passphrase-file", str(secret)]
    result = CliRunner().invoke(main, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert reviewer_runway.ends_soon(Vault(vault)) is None  # thirteen weeks ahead again


def test_a_damaged_weekly_key_file_is_a_sentence_not_a_traceback(tmp_path) -> None:
    vault = Vault(tmp_path / "vault")
    runway.top_up(vault, Identity.generate())
    damaged = sorted(reviewer_runway.directory(vault).glob("*.json"))[0]
    damaged.write_text("{not json", "utf-8")
    with pytest.raises(VaultError, match=f"the weekly key file {damaged} is damaged"):
        reviewer_runway.ends_soon(vault)
