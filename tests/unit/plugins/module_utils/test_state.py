"""Unit tests for plugins/module_utils/_state.py: the controller's judgement of "would the module change anything"."""

from __future__ import annotations

from ansible_collections.mailops.mailhost.plugins.module_utils import _state
from ansible_collections.mailops.mailhost.plugins.module_utils._dkim import key_table, signing_table, trusted_hosts
from ansible_collections.mailops.mailhost.plugins.module_utils._postconf import render_table

MAIN = "# comment kept\nmyhostname = mx.example.com\nmynetworks = 127.0.0.0/8\n"
MASTER = "smtp inet n - y - - smtpd\n"
MAPS = [{"path": "/etc/postfix/virtual", "type": "hash", "entries": {"a@example.com": "alice"}, "source": "v"}]


def described(content: str, mode: str = "0644", owner: str = "root", group: str = "root") -> dict:
    return {"exists": True, "sha256": _state.digest(content), "mode": mode, "owner": owner, "group": group}


def postfix_facts(**changes) -> dict:
    facts = {
        "texts": {"/etc/postfix/main.cf": MAIN, "/etc/postfix/master.cf": MASTER},
        "files": {"/etc/postfix/virtual": described(render_table(MAPS[0]["entries"], False, "v"))},
        "paths": {"/etc/postfix/virtual.db": True, "/var/lib/mailops-mailhost/postfix-rollback/pending.json": False},
    }
    facts.update(changes)
    return facts


def reasons(facts, params=None, master=MASTER, maps=None):
    params = params or {"myhostname": "mx.example.com", "mynetworks": ["127.0.0.0/8"]}
    return _state.postconf_reasons(facts, params, [], True, [], master, MAPS if maps is None else maps)


def test_nothing_differs_means_no_module_call():
    assert reasons(postfix_facts()) == []


def test_each_difference_is_a_reason():
    assert reasons(postfix_facts(), params={"myhostname": "other.example.com", "mynetworks": "127.0.0.0/8"}) == [
        "/etc/postfix/main.cf: parameters differ"
    ]
    assert reasons(postfix_facts(), master=MASTER + "pickup unix n - y 60 1 pickup\n") == [
        "/etc/postfix/master.cf: services differ"
    ]
    other = [{**MAPS[0], "entries": {"a@example.com": "bob"}}]
    assert reasons(postfix_facts(), maps=other) == ["/etc/postfix/virtual: content differs"]
    assert reasons(postfix_facts(paths={"/etc/postfix/virtual.db": False})) == ["/etc/postfix/virtual.db: not compiled"]


def test_a_pending_change_and_missing_files_count_as_changes():
    pending = postfix_facts(
        paths={"/etc/postfix/virtual.db": True, "/var/lib/mailops-mailhost/postfix-rollback/pending.json": True}
    )
    assert "not known to be live" in reasons(pending)[0]
    assert reasons(postfix_facts(texts={})) == [
        "/etc/postfix/main.cf: parameters differ",
        "/etc/postfix/master.cf: services differ",
    ]
    assert reasons(postfix_facts(files={})) == ["/etc/postfix/virtual: missing"]


def test_file_reasons_mode_owner_and_group():
    facts = {"files": {"/x": described("a\n", "0644", "root", "root")}}
    assert _state.file_reasons(facts, "/x", "a\n", "0644", "root", "root") == []
    assert _state.file_reasons(facts, "/x", "b\n") == ["/x: content differs"]
    assert _state.file_reasons(facts, "/x", None, "0600", "opendkim", "dovecot") == [
        "/x: mode 0644 instead of 0600",
        "/x: owner root instead of opendkim",
        "/x: group root instead of dovecot",
    ]


def test_dkim_keys_tables_config_and_a_world_readable_key():
    keys = [{"domain": "example.com", "selector": "s1", "bits": 2048}]
    tables = {
        "KeyTable": key_table(keys, "/etc/opendkim/keys"),
        "SigningTable": signing_table({"example.com": "s1"}),
        "TrustedHosts": trusted_hosts(["127.0.0.1"]),
    }
    files = {f"/etc/opendkim/{n}": described(c, "0640", "opendkim") for n, c in tables.items()}
    files["/etc/opendkim.conf"] = described("Mode sv\n", "0640", "root")
    files["/etc/opendkim/keys/example.com/s1.private"] = described("KEY\n", "0600", "opendkim")
    args = (keys, {}, {}, ["127.0.0.1"], "/etc/opendkim/keys", "/etc/opendkim", "Mode sv", "/etc/opendkim.conf")
    assert _state.dkim_reasons({"files": files, "paths": {}}, *args) == []
    files["/etc/opendkim/keys/example.com/s1.private"] = described("KEY\n", "0644", "opendkim")
    assert _state.dkim_reasons({"files": files, "paths": {}}, *args) == [
        "/etc/opendkim/keys/example.com/s1.private: mode 0644 instead of 0600"
    ]
    supplied = (keys, {"example.com/s1": "OTHER KEY"}, *args[2:])
    assert any("content differs" in r for r in _state.dkim_reasons({"files": files, "paths": {}}, *supplied))
