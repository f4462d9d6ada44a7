"""Unit tests for the opendkim tables and records (plugins/module_utils/_dkim.py)."""

from __future__ import annotations

from ansible_collections.mailops.mailhost.plugins.module_utils import _dkim

KEYS = [
    {"domain": "example.org", "selector": "s2"},
    {"domain": "example.com", "selector": "s1"},
    {"domain": "example.org", "selector": "s1"},
]


def test_signing_defaults_to_first_key_and_rejects_unknown_selector():
    chosen, problems = _dkim.signing_selectors(KEYS, {})
    assert chosen == {"example.org": "s2", "example.com": "s1"} and problems == []
    chosen, problems = _dkim.signing_selectors(KEYS, {"example.org": "s1"})
    assert chosen["example.org"] == "s1"
    _chosen, problems = _dkim.signing_selectors(KEYS, {"example.org": "s9"})
    assert problems and "'s9'" in problems[0] and "opendkim_signing" in problems[0]


def test_key_table_lists_every_key_sorted_and_signing_table_only_signers():
    table = _dkim.key_table(KEYS, "/etc/opendkim/keys")
    assert table.splitlines()[1:] == [
        "s1._domainkey.example.com example.com:s1:/etc/opendkim/keys/example.com/s1.private",
        "s1._domainkey.example.org example.org:s1:/etc/opendkim/keys/example.org/s1.private",
        "s2._domainkey.example.org example.org:s2:/etc/opendkim/keys/example.org/s2.private",
    ]
    signing = _dkim.signing_table({"example.org": "s2", "example.com": "s1"})
    assert signing.splitlines()[1:] == [
        "*@example.com s1._domainkey.example.com",
        "*@example.org s2._domainkey.example.org",
    ]


def test_trusted_hosts_drop_postfix_brackets_and_duplicates():
    text = _dkim.trusted_hosts(["127.0.0.0/8", "[::1]/128", "192.0.2.0/24", "127.0.0.0/8"])
    assert text.splitlines()[1:] == ["127.0.0.0/8", "::1/128", "192.0.2.0/24"]


def test_record_is_split_into_strings_of_at_most_255():
    public = "A" * 392
    rec = _dkim.record("example.com", "s1", public, 2048, True)
    assert rec["name"] == "s1._domainkey.example.com"
    assert all(len(s) <= 255 for s in rec["strings"]) and "".join(rec["strings"]) == rec["value"]
    assert rec["zone_line"].startswith('s1._domainkey.example.com. 3600 IN TXT ( "v=DKIM1; k=rsa; p=')


def test_bits_and_pem_body():
    assert _dkim.bits_from_openssl_text("Private-Key: (2048 bit, 2 primes)\nmodulus:") == 2048
    assert _dkim.pem_body("-----BEGIN PUBLIC KEY-----\nAB\nCD\n-----END PUBLIC KEY-----\n") == "ABCD"


def test_conf_settings_and_the_ones_only_a_restart_applies():
    text = "# opendkim.conf\nSocket  inet:8891@localhost  # the milter\n\nUMask 007\nMode sv\nMode s\nBackground\n"
    conf_settings, restart_settings_changed = _dkim.conf_settings, _dkim.restart_settings_changed
    assert conf_settings(text) == {"socket": "inet:8891@localhost", "umask": "007", "mode": "s", "background": ""}
    assert restart_settings_changed(text, text.replace("Mode s\n", "Mode v\n")) == []
    assert restart_settings_changed(text, text.replace("007", "002")) == ["umask"]
    assert restart_settings_changed(text, text + "PidFile /run/opendkim/opendkim.pid\n") == ["pidfile"]
    assert "socket" in restart_settings_changed(None, text)
