"""The dkim_keys module with the real openssl: keys, tables, records; never key material in the result."""

from __future__ import annotations

import json
import os
import subprocess

import pytest
from ansible.module_utils import basic

from ansible_collections.mailops.mailhost.plugins.modules import dkim_keys


@pytest.fixture
def real_commands(monkeypatch):
    """Undo nothing: dkim_keys runs openssl for real. Owner root exists everywhere."""

    def run(self, argv, environ_update=None, data=None, **_kw):
        proc = subprocess.run(argv, input=data, capture_output=True, text=True, check=False)
        return proc.returncode, proc.stdout, proc.stderr

    monkeypatch.setattr(basic.AnsibleModule, "run_command", run)


def args(tmp_path, **kw):
    return {
        "key_dir": str(tmp_path / "keys"),
        "tables_dir": str(tmp_path),
        "owner": "root",
        "backup_dir": str(tmp_path / "rollback"),
        **kw,
    }


KEYS = [{"domain": "example.com", "selector": "s1"}, {"domain": "example.org", "selector": "s1"}]


def test_generates_keys_writes_tables_and_returns_records(tmp_path, run_module, real_commands):
    out = run_module(dkim_keys, args(tmp_path, keys=KEYS))
    assert not out.failed, out.result
    assert sorted(out.result["changed_keys"]) == ["example.com/s1", "example.org/s1"]
    key = tmp_path / "keys" / "example.com" / "s1.private"
    assert oct(os.stat(key).st_mode & 0o777) == "0o600"
    assert [r["bits"] for r in out.result["records"]] == [2048, 2048]
    assert all(r["signing"] for r in out.result["records"])
    assert "PRIVATE" not in json.dumps(out.result)
    assert (tmp_path / "SigningTable").read_text().count("*@") == 2
    again = run_module(dkim_keys, args(tmp_path, keys=KEYS))
    assert again.result["changed"] is False
    assert again.result["records"] == out.result["records"]


def test_check_mode_writes_nothing(tmp_path, run_module, real_commands):
    out = run_module(dkim_keys, args(tmp_path, keys=KEYS), check_mode=True)
    assert out.result["changed"] is True and out.result["records"] == []
    assert not (tmp_path / "keys").exists() and not (tmp_path / "KeyTable").exists()


def test_short_keys_refused_asked_or_supplied(tmp_path, run_module, real_commands, rsa_key):
    out = run_module(dkim_keys, args(tmp_path, keys=[{"domain": "example.com", "selector": "s1", "bits": 1024}]))
    assert out.failed and "1024 is refused; DKIM keys have 2048 (RFC 8301)" in out.result["msg"]
    weak = rsa_key(1024)
    keys = [{"domain": "example.com", "selector": "s1"}]
    out = run_module(dkim_keys, args(tmp_path, keys=keys, private_keys={"example.com/s1": weak}))
    assert out.failed and "has 1024 bits" in out.result["msg"]
    assert weak.splitlines()[1] not in json.dumps(out.result)


def test_supplied_key_installed_as_is(tmp_path, run_module, real_commands, rsa_key):
    pem = rsa_key(2048)
    keys = [{"domain": "example.com", "selector": "v1"}]
    out = run_module(dkim_keys, args(tmp_path, keys=keys, private_keys={"example.com/v1": pem}))
    assert not out.failed and out.result["changed_keys"] == ["example.com/v1"]
    assert (tmp_path / "keys" / "example.com" / "v1.private").read_text() == pem.strip() + "\n"
    assert pem.splitlines()[1] not in json.dumps(out.result)


def test_unknown_signing_selector_refused(tmp_path, run_module, real_commands):
    out = run_module(dkim_keys, args(tmp_path, keys=KEYS, signing={"example.com": "nope"}))
    assert out.failed and "'nope'" in out.result["msg"]


def test_hostile_arguments_are_refused_before_anything_is_written(tmp_path, run_module, real_commands):
    cases = [
        ({"keys": [{"domain": "example.com", "selector": "../../../tmp/x"}]}, "keys[0].selector"),
        ({"keys": [{"domain": "example com", "selector": "s1"}]}, "keys[0].domain"),
        ({"keys": [{"domain": "example.com", "selector": "s1", "bits": 3000000}]}, "3000000 is refused"),
        ({"keys": KEYS, "trusted_hosts": ["127.0.0.1\n0.0.0.0/0"]}, "trusted_hosts[0]"),
        ({"keys": KEYS, "trusted_hosts": ["0.0.0.0/0"]}, "every address on the Internet"),
        ({"keys": KEYS, "private_keys": {"example.net/s1": "x"}}, "names no key of keys"),
        ({"keys": KEYS + KEYS[:1]}, "listed twice"),
        ({"keys": KEYS, "key_dir": "relative/keys"}, "key_dir"),
    ]
    for extra, expected in cases:
        out = run_module(dkim_keys, args(tmp_path, **extra))
        assert out.failed and expected in out.result["msg"], (extra, out.result["msg"])
    assert not (tmp_path / "keys").exists() and not (tmp_path / "KeyTable").exists()


def test_keys_that_are_not_rsa_are_refused_plainly(tmp_path, run_module, real_commands):
    ed25519 = subprocess.run(
        ["openssl", "genpkey", "-algorithm", "ED25519"], capture_output=True, text=True, check=True
    ).stdout
    keys = [{"domain": "example.com", "selector": "s1"}]
    out = run_module(dkim_keys, args(tmp_path, keys=keys, private_keys={"example.com/s1": ed25519}))
    assert out.failed and "is a ed25519 key; DKIM keys here are RSA" in out.result["msg"]
    assert ed25519.splitlines()[1] not in json.dumps(out.result)


def test_a_refused_configuration_leaves_no_new_key_or_table(tmp_path, run_module, real_commands, monkeypatch):
    monkeypatch.setattr(dkim_keys.Opendkim, "config_problem", lambda self, content, tables: "line 3: unknown option")
    out = run_module(dkim_keys, args(tmp_path, keys=KEYS, config="Bogus yes\n", config_path=str(tmp_path / "o.conf")))
    assert out.failed and "nothing was written: line 3: unknown option" in out.result["msg"]
    assert not (tmp_path / "keys").exists() and not (tmp_path / "KeyTable").exists()


def test_the_change_is_pending_until_it_is_live_and_a_killed_one_is_resumed(tmp_path, run_module, real_commands):
    out = run_module(dkim_keys, args(tmp_path, keys=KEYS))
    assert out.result["backup"] and not (tmp_path / "rollback" / "pending.json").exists()
    # A run killed after writing the tables: its mark is left, the files are what the next run wants.
    (tmp_path / "rollback" / "pending.json").write_text(json.dumps({"generation": out.result["backup"]}))
    again = run_module(dkim_keys, args(tmp_path, keys=KEYS))
    assert again.result["changed"] is True and again.result["backup"] == out.result["backup"]
    assert not (tmp_path / "rollback" / "pending.json").exists()
    assert run_module(dkim_keys, args(tmp_path, keys=KEYS)).result["changed"] is False


def test_a_supplied_key_made_world_readable_by_hand_gets_its_mode_back(tmp_path, run_module, real_commands, rsa_key):
    pem = rsa_key(2048)
    keys = [{"domain": "example.com", "selector": "v1"}]
    run_module(dkim_keys, args(tmp_path, keys=keys, private_keys={"example.com/v1": pem}))
    key = tmp_path / "keys" / "example.com" / "v1.private"
    os.chmod(key, 0o644)
    out = run_module(dkim_keys, args(tmp_path, keys=keys, private_keys={"example.com/v1": pem}))
    assert out.result["changed"] is True and oct(os.stat(key).st_mode & 0o777) == "0o600"
    wanted = {"kind": "key", "item": "example.com/v1 mode", "before": "0644 root"}
    assert wanted.items() <= out.result["mailhost_changes"][0].items()


def test_opendkim_is_reloaded_unless_a_setting_it_reads_only_at_start_changed(
    tmp_path, run_module, real_commands, monkeypatch
):
    """opendkim(8): Socket, UserID, UMask, PidFile... are not re-read on SIGUSR1; Mode and the tables are."""
    monkeypatch.setattr(dkim_keys.Opendkim, "config_problem", lambda self, content, tables: None)
    conf = str(tmp_path / "opendkim.conf")
    base = "Socket inet:8891@localhost\nUserID opendkim\nMode sv\n"

    def change(config: str):
        out = run_module(dkim_keys, args(tmp_path, keys=KEYS, config=config, config_path=conf))
        assert not out.failed, out.result
        actions = [c["after"] for c in out.result["mailhost_changes"] if c["kind"] == "action"]
        return out.result["restart_settings"], actions

    settings, actions = change(base)
    assert actions == ["restart"] and "socket" in settings  # a new opendkim.conf: everything is new
    assert change(base.replace("Mode sv", "Mode s") + "# a comment\n") == ([], ["reload"])
    assert change(base.replace("Mode sv", "Mode s").replace("8891", "8892")) == (["socket"], ["restart"])
    assert change("socket   inet:8892@localhost # same value, other spelling\nUserID opendkim\nMode s\n") == (
        [],
        ["reload"],
    )
    assert change("Socket inet:8892@localhost\nMode s\n") == (["userid"], ["restart"])  # a setting removed
