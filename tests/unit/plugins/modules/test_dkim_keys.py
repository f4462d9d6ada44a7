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
    return {"key_dir": str(tmp_path / "keys"), "tables_dir": str(tmp_path), "owner": "root", **kw}


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
    assert out.failed and "at least 2048 bits" in out.result["msg"]
    weak = rsa_key(1024)
    out = run_module(dkim_keys, args(tmp_path, keys=[{"domain": "example.com", "selector": "s1", "private_key": weak}]))
    assert out.failed and "has 1024 bits" in out.result["msg"]
    assert weak.splitlines()[1] not in json.dumps(out.result)


def test_supplied_key_installed_as_is(tmp_path, run_module, real_commands, rsa_key):
    pem = rsa_key(2048)
    out = run_module(dkim_keys, args(tmp_path, keys=[{"domain": "example.com", "selector": "v1", "private_key": pem}]))
    assert not out.failed and out.result["changed_keys"] == ["example.com/v1"]
    assert (tmp_path / "keys" / "example.com" / "v1.private").read_text() == pem.strip() + "\n"
    assert pem.splitlines()[1] not in json.dumps(out.result)


def test_unknown_signing_selector_refused(tmp_path, run_module, real_commands):
    out = run_module(dkim_keys, args(tmp_path, keys=KEYS, signing={"example.com": "nope"}))
    assert out.failed and "'nope'" in out.result["msg"]
