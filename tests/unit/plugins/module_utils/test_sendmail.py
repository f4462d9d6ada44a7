"""Unit tests of the sendmail migration's logic: the mapping (_sendmail), routes (_routes), queue files."""

from __future__ import annotations

import os

import pytest

from ansible_collections.mailops.mailhost.plugins.module_utils import _routes, _sendmail, _sendmail_queue
from ansible_collections.mailops.mailhost.plugins.module_utils._sendmail import Source

# The sendmail scenario's own configuration (molecule/sendmail/files), read as the module reads it.
DATA = os.path.join(os.path.dirname(__file__), "..", "..", "..", "..", "molecule", "sendmail", "files")


def sources(**override) -> dict:
    found = {}
    for role, name in (
        ("mc", "sendmail.mc"),
        ("local-host-names", "local-host-names"),
        ("access", "access"),
        ("virtusertable", "virtusertable"),
        ("mailertable", "mailertable"),
        ("genericstable", "genericstable"),
        ("generics-domains", "generics-domains"),
        ("aliases", "aliases"),
    ):
        with open(os.path.join(DATA, name), encoding="utf-8") as handle:
            found[role] = Source(f"/etc/mail/{name}", handle.read())
    for role, text in override.items():
        found[role.replace("_", "-")] = Source(f"/etc/mail/{role}", text)
    return found


def plan(**override):
    return _sendmail.migrate(sources(**override), "mail.example.org")


def test_mc_statements_keep_lines_and_join_dnl_continuations():
    statements = _sendmail.mc_statements(
        "divert(-1)dnl\n# comment FEATURE(`x')\ndefine(`confPRIVACY_FLAGS',dnl\n"
        "`goaway,noexpn')dnl\nFEATURE(`a', `b')dnl\n"
    )
    names = [(line, macro, args) for line, macro, args, _text in statements]
    assert (3, "define", ["confPRIVACY_FLAGS", "goaway,noexpn"]) in names
    assert (5, "FEATURE", ["a", "b"]) in names
    assert all(macro != "x" for _line, macro, _args in names)


def test_the_scenario_configuration_maps_entry_by_entry():
    p = plan()
    v = p.variables
    assert v["postfix_mydestination"] == ["$myhostname", "localhost", "example.org", "example.com"]
    assert v["postfix_relayhost"] == "[smarthost.example.test]"
    assert v["postfix_message_size_limit"] == 26214400
    assert v["postfix_virtual_aliases"]["@example.info"] == "@example.net"
    assert v["postfix_virtual_alias_domains"] == ["example.info"]
    assert v["postfix_transport"] == {"example.net": "smtp:[relay2.example.test]"}
    assert v["postfix_sender_access"] == {"spammer.example": "REJECT", "friend@partner.example": "OK"}
    assert v["postfix_client_access"] == {"198.51.100.7": "550 5.7.1 Go away"}
    assert v["postfix_aliases"]["staff"] == ["alice", "bob"]
    assert v["postfix_aliases"]["logger"] == '"|/usr/bin/logger -t mail-alias"'
    unmapped = {(u["file"], u["line"]) for u in p.unmapped}
    assert ("/etc/mail/sendmail.mc", 16) in unmapped  # confCONNECTION_RATE_THROTTLE
    assert any(u["text"].startswith("GreetPause:") for u in p.unmapped)
    # the loopback RELAY entries are what mynetworks always holds, not unmapped
    assert not any("localhost" in u["text"] and "RELAY" in u["text"] for u in p.unmapped)


@pytest.mark.parametrize(
    "key,network",
    [
        ("10.1", "10.1.0.0/16"),
        ("192.0.2", "192.0.2.0/24"),
        ("192.0.2.7", "192.0.2.7/32"),
        ("IPv6:2001:db8::1", "2001:db8::1/128"),
        ("example.com", None),
        ("300.1", None),
    ],
)
def test_sendmail_prefixes_as_networks(key, network):
    assert _sendmail.network_of(key) == network


@pytest.mark.parametrize(
    "value,action",
    [
        ("REJECT", "REJECT"),
        ("discard", "DISCARD"),
        ("SKIP", "DUNNO"),
        ('ERROR:"550 Go away"', "550 Go away"),
        ("ERROR:5.7.1:550 Not here", "550 5.7.1 Not here"),
        ("ERROR:4.7.1:450 Later", "450 4.7.1 Later"),
        ("QUARANTINE:look at it", "HOLD look at it"),
        ("FROBNICATE", None),
    ],
)
def test_access_values(value, action):
    assert _sendmail.access_action(value) == action


def test_wide_relay_network_sender_relay_and_no_postmaster_are_findings():
    p = plan(
        access="Connect:10\tRELAY\nFrom:boss@example.org\tRELAY\nTo:partner.example\tRELAY\n", aliases="root: alice\n"
    )
    messages = [f["message"] for f in p.findings]
    assert any("postfix_mynetworks: 10.0.0.0/8 is wider than /16" in m for m in messages)
    assert any("relaying by sender address" in m for m in messages)
    assert any("no postmaster alias" in m for m in messages)
    assert p.variables["postfix_main_cf"] == {"relay_domains": ["partner.example"]}
    assert "10.0.0.0/8" in p.variables["postfix_mynetworks"]


def test_compiled_cf_is_read_when_there_is_no_mc():
    cf = (
        "Cwlocalhost mail.example.org\nDS[relay.example.net]\nO MaxMessageSize=1000000\n"
        "O DaemonPortOptions=Port=smtp,Addr=127.0.0.1, Name=MTA\n"
    )
    found = sources()
    found["mc"] = Source("/etc/mail/sendmail.mc", None)
    found["cf"] = Source("/etc/mail/sendmail.cf", cf)
    found["local-host-names"] = Source("/etc/mail/local-host-names", None)
    p = _sendmail.migrate(found, "mail.example.org")
    assert p.variables["postfix_relayhost"] == "[relay.example.net]"
    assert p.variables["postfix_message_size_limit"] == 1000000
    assert p.variables["postfix_inet_interfaces"] == "127.0.0.1"
    assert p.variables["postfix_mydestination"] == ["$myhostname", "localhost"]
    assert any("loopback only" in f["message"] for f in p.findings)


def test_unsupported_percent_forms_are_unmapped_not_guessed():
    p = plan(virtusertable="@example.com\t%1+tag@example.net\nuser@example.com\terror:nouser 550 No such user\n")
    reasons = [u["reason"] for u in p.unmapped if u["file"] == "/etc/mail/virtusertable"]
    assert len(reasons) == 2 and "cannot pick" in reasons[0] and "postfix_recipient_access" in reasons[1]


def test_report_escapes_backticks_and_lists_every_part():
    p = plan()
    outcome = {"findings": p.findings, "unmapped": p.unmapped, "mapped": p.mapped, "queue": []}
    text = _sendmail.report_markdown("mail.example.org", outcome)
    assert "`` define(`confCONNECTION_RATE_THROTTLE', `15') ``" in text
    assert text.index("## Findings") < text.index("## Not mapped") < text.index("## What maps to what")


# --- routes -----------------------------------------------------------------------------------

BV = """alice@example.org... deliverable: mailer local, user alice
"|/usr/bin/logger -t x"... deliverable: mailer prog, user "|/usr/bin/logger -t x"
x@example.info... deliverable: mailer smtp, host [relay2.example.test], user x@example.net
y@gmail.example... deliverable: mailer relay, host [smarthost.example.test], user y@gmail.example
nobody... User unknown
"""


def test_sendmail_bv_said_as_destinations():
    found = [_routes.sendmail_destination(e) for e in _routes.parse_sendmail_bv(BV)]
    assert found == [
        "local:alice",
        "prog:/usr/bin/logger -t x",
        "smtp:[relay2.example.test]:x@example.net",
        "smtp:[smarthost.example.test]:y@gmail.example",
        "error",
    ]


def postfix(tables: dict, users=("alice", "bob", "catchall")):
    config = _routes.PostfixConfig(
        mydestination=["mail.example.org", "localhost", "example.org", "example.com"],
        myorigin="example.org",
        virtual_alias_domains=["example.info"],
        relayhost="[smarthost.example.test]",
    )

    def query(which, key):
        return tables.get(which, {}).get(key)

    return lambda address: _routes.postfix_destinations(address, config, query, lambda u: u in users)


TABLES = {
    "virtual": {"@example.info": "@example.net", "info@example.com": "alice", "@example.com": "catchall"},
    "alias": {"staff": "alice, bob", "root": "alice", "postmaster": "root", "logger": '"|/usr/bin/logger -t x"'},
    "transport": {"example.net": "smtp:[relay2.example.test]"},
}


@pytest.mark.parametrize(
    "address,expected",
    [
        ("staff@example.org", ["local:alice", "local:bob"]),
        ("postmaster@example.org", ["local:alice"]),
        ("logger@example.org", ["prog:/usr/bin/logger -t x"]),
        ("info@example.com", ["local:alice"]),
        ("anyone@example.com", ["local:catchall"]),
        ("x@example.info", ["smtp:[relay2.example.test]:x@example.net"]),
        ("y@gmail.example", ["smtp:[smarthost.example.test]:y@gmail.example"]),
        ("nobody@example.org", ["error"]),
        ("alice+tag@example.org", ["local:alice"]),
    ],
)
def test_postfix_destinations_follow_its_tables(address, expected):
    assert postfix(TABLES)(address) == expected


def test_an_alias_loop_ends_as_an_error():
    loop = {"alias": {"a": "b", "b": "a"}}
    assert postfix(loop)("a@example.org") == ["error"]


def test_compare_names_each_changed_address():
    problems = _routes.compare({"a@x": ["local:a"], "b@x": ["local:b"]}, {"a@x": ["local:a"], "b@x": ["error"]})
    assert problems == ["b@x: sendmail delivered to local:b; Postfix to error"]


# --- the queue --------------------------------------------------------------------------------

QF = (
    b"V8\nT1796169347\nK0\nN0\nP60083\nFbs\n$_root@localhost\nScarol@example.org\nAcarol@example.org\n"
    b"rRFC822; alice@example.org\nRPFD:alice@example.org\nCbob:1001:1001:staff@example.org\n"
    b'rRFC822; staff@example.org\nRFDA:bob\nrRFC822; logger@example.org\nRFDA:"|/usr/bin/logger"\n'
    b"H?P?Return-Path: <\x83g>\nH??Received: (from root@localhost)\n\tby mail.example.org id 6B1N;\n"
    b"H?D?Date: Tue, 1 Dec 2026 23:55:47 GMT\nH??Subject: held one\n.\n"
)


def test_qf_envelope_and_headers():
    parsed = _sendmail_queue.parse_qf(QF)
    assert parsed["sender"] == "carol@example.org"
    # bob is left to deliver as sendmail expanded him; the program recipient goes as the address it came from
    assert parsed["recipients"] == ["alice@example.org", "bob", "logger@example.org"]
    headers = parsed["headers"].decode()
    assert "Return-Path" not in headers  # a sendmail macro, added at delivery
    assert headers.startswith("Received: (from root@localhost)\n\tby mail.example.org id 6B1N;\nDate: Tue")
    assert "Subject: held one" in headers
    assert [_sendmail_queue.qualify(r, "mail.example.org") for r in parsed["recipients"]][1] == "bob@mail.example.org"


def test_qf_without_sender_is_a_problem():
    assert _sendmail_queue.parse_qf(b"V8\nRPFD:a@b\n.\n")["problems"]
    assert _sendmail_queue.parse_qf(b"V8\nS<>\nRPFD:a@b\n.\n")["sender"] == ""
