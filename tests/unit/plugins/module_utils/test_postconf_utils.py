"""Unit tests for plugins/module_utils/_postconf.py (pure logic)."""

from __future__ import annotations

import pytest

from ansible_collections.mailops.mailhost.plugins.module_utils import _postconf as pc

MAIN_CF = """# See /usr/share/postfix/main.cf.dist
smtpd_banner = $myhostname ESMTP $mail_name (Debian/GNU)
biff = no

smtpd_relay_restrictions = permit_mynetworks
    permit_sasl_authenticated
    defer_unauth_destination
myhostname = old.example.com
# a comment between parameters
mynetworks = 127.0.0.0/8
myhostname = later.example.com
"""


def test_parse_joins_continuation_lines_and_last_definition_wins():
    params = pc.parse_main_cf(MAIN_CF)
    assert params["smtpd_relay_restrictions"] == (
        "permit_mynetworks permit_sasl_authenticated defer_unauth_destination"
    )
    assert params["myhostname"] == "later.example.com"
    assert params["biff"] == "no"
    assert "# a comment" not in "".join(params)


@pytest.mark.parametrize(
    "a,b",
    [("a,b", "a, b"), ("a,\n    b", "a, b"), ("  x  ", "x"), ("a ,b", "a,  b"), ("a\n    b", "a b")],
)
def test_normalize_folds_whitespace_and_comma_spacing(a, b):
    assert pc.normalize_value(a) == pc.normalize_value(b)


def test_normalize_keeps_different_values_different():
    assert pc.normalize_value("$myhostname ESMTP") != pc.normalize_value("$myhostname ESMTP Postfix")
    # Whitespace is not a comma: in a banner or a command it is part of the value.
    assert pc.normalize_value("a b") != pc.normalize_value("a, b")


@pytest.mark.parametrize("value,text", [(True, "yes"), (False, "no"), (["a", "b"], "a, b"), (10, "10"), (None, "")])
def test_format_value(value, text):
    assert pc.format_value(value) == text


def test_edit_replaces_in_place_keeps_comments_and_drops_duplicates():
    out = pc.edit_main_cf(MAIN_CF, {"myhostname": "mx.example.com", "biff": "no"}, absent=["mynetworks"])
    params = pc.parse_main_cf(out)
    assert params["myhostname"] == "mx.example.com"
    assert out.count("myhostname =") == 1
    assert "mynetworks" not in params
    assert "# a comment between parameters" in out
    assert out.index("smtpd_banner") < out.index("biff")
    assert out.endswith("\n")


def test_edit_leaves_equivalent_value_as_written():
    out = pc.edit_main_cf(
        MAIN_CF,
        {"smtpd_relay_restrictions": "permit_mynetworks permit_sasl_authenticated defer_unauth_destination"},
    )
    assert "    permit_sasl_authenticated\n" in out  # the original continuation lines stay


def test_edit_appends_new_parameters_and_is_idempotent():
    once = pc.edit_main_cf(MAIN_CF, {"disable_vrfy_command": "yes"})
    assert pc.parse_main_cf(once)["disable_vrfy_command"] == "yes"
    assert pc.edit_main_cf(once, {"disable_vrfy_command": "yes"}) == once


def test_edit_exclusive_removes_everything_else():
    out = pc.edit_main_cf(MAIN_CF, {"biff": "no"}, exclusive=True)
    assert pc.parse_main_cf(out) == {"biff": "no"}


def test_edit_exclusive_keeps_listed_parameters_as_written():
    out = pc.edit_main_cf(MAIN_CF, {"biff": "no"}, exclusive=True, keep=["mynetworks", "not_there"])
    assert pc.parse_main_cf(out) == {"biff": "no", "mynetworks": "127.0.0.0/8"}


def test_long_lists_render_one_item_per_line_and_parse_back():
    items = [f"check_client_access hash:/etc/postfix/access_{i}" for i in range(5)]
    out = pc.edit_main_cf("", {"smtpd_client_restrictions": ", ".join(items)})
    assert out.count("\n") == 6
    assert pc.normalize_value(pc.parse_main_cf(out)["smtpd_client_restrictions"]) == ", ".join(items)


def test_changed_params_counts_added_removed_and_changed_only():
    before = {"a": "1", "b": "x, y", "c": "3"}
    after = {"a": "1", "b": "x,y", "c": "4", "d": "5"}
    assert pc.changed_params(before, after) == ["c", "d"]
    assert pc.changed_params(before, {"a": "1"}) == ["b", "c"]


def test_parse_findings_dedups_and_keeps_severity():
    err = (
        "postconf: warning: /tmp/c/main.cf: unused parameter: bogus=1\n"
        "/usr/sbin/postconf: warning: /tmp/c/main.cf: unused parameter: bogus=1\n"
        "postfix/postfix-script: fatal: the Postfix mail system is not running\n"
        "postsuper[123]: error: something broke\n"
        "not a finding\n"
    )
    findings = pc.parse_findings(err)
    assert [(f.severity, f.program) for f in findings] == [
        ("warning", "postconf"),
        ("fatal", "postfix/postfix-script"),
        ("error", "postsuper"),
    ]
    assert findings[0].message == "/tmp/c/main.cf: unused parameter: bogus=1"


MASTER = """# comment
smtp      inet  n       -       y       -       -       smtpd
submission inet n       -       y       -       -       smtpd
  -o syslog_name=postfix/submission
  -o smtpd_tls_security_level=encrypt
pickup    unix  n       -       y       60      1       pickup
"""


def test_parse_master_cf_collects_options():
    services = pc.parse_master_cf(MASTER)
    assert [s.key for s in services] == ["smtp/inet", "submission/inet", "pickup/unix"]
    assert services[1].options == {"syslog_name": "postfix/submission", "smtpd_tls_security_level": "encrypt"}
    assert services[1].command == "smtpd"


def test_parse_master_cf_rejects_short_entries():
    with pytest.raises(ValueError, match="fewer than 8 fields"):
        pc.parse_master_cf("smtp inet n - y smtpd\n")


def test_restart_required_for_interfaces_protocols_and_listeners():
    assert pc.restart_required(["inet_interfaces"], MASTER, MASTER)
    assert pc.restart_required(["inet_protocols", "myhostname"], None, None)
    assert not pc.restart_required(["myhostname", "mynetworks"], MASTER, MASTER)
    without_submission = "\n".join(
        line for line in MASTER.splitlines() if "submission" not in line and "-o" not in line
    )
    assert pc.restart_required([], MASTER, without_submission)
    changed_option = MASTER.replace("encrypt", "may")
    assert not pc.restart_required([], MASTER, changed_option)  # same listeners: a reload applies it


def test_referenced_tables_and_tls_files():
    values = [
        "check_sender_access hash:/etc/postfix/sender_access, reject",
        "proxy:hash:/etc/postfix/virtual",
        "pcre:/etc/postfix/header_checks",
        "inline:{a=b}",
    ]
    assert pc.referenced_tables(values) == [
        ("hash", "/etc/postfix/sender_access"),
        ("hash", "/etc/postfix/virtual"),
        ("pcre", "/etc/postfix/header_checks"),
    ]
    files = pc.referenced_tls_files({"smtpd_tls_chain_files": "/k.pem, /c.pem", "smtpd_tls_loglevel": "1"})
    assert files == [("smtpd_tls_chain_files", "/k.pem"), ("smtpd_tls_chain_files", "/c.pem")]


def test_missing_references_reports_missing_source_index_and_certificate():
    present = {"/etc/postfix/virtual", "/etc/postfix/generic", "/etc/postfix/generic.db", "/c.pem"}
    params = {
        "virtual_alias_maps": "hash:/etc/postfix/virtual",
        "smtp_generic_maps": "hash:/etc/postfix/generic",
        "transport_maps": "hash:/etc/postfix/transport",
        "smtpd_tls_chain_files": "/k.pem, /c.pem",
        "smtpd_tls_session_cache_database": "btree:/var/lib/postfix/smtpd_scache",
    }
    problems = pc.missing_references(params, [], present.__contains__, pending={"/etc/postfix/transport"})
    assert problems == [
        "lookup table hash:/etc/postfix/virtual is referenced but not compiled "
        "(/etc/postfix/virtual.db does not exist; run postmap)",
        "smtpd_tls_chain_files names /k.pem, which does not exist",
    ]


def test_version_problems_catch_syntax_the_host_cannot_parse():
    params = {"smtpd_tls_protocols": ">=TLSv1.2"}
    assert pc.version_problems(params, (3, 5, 25))
    assert pc.version_problems(params, (3, 7, 11)) == []
    assert pc.version_problems({"smtpd_tls_chain_files": "/k"}, (3, 3, 0))


@pytest.mark.parametrize(
    "network,plain",
    [
        ("[2001:db8::]/32", "2001:db8::/32"),
        ("[::1]/128", "::1/128"),
        ("192.0.2.0/24", "192.0.2.0/24"),
        ("[::1]", "::1"),
    ],
)
def test_unbracket_writes_postfix_networks_as_plain_cidrs(network, plain):
    assert pc.unbracket(network) == plain


def test_render_table_sorts_keys_without_case_and_joins_lists():
    text = pc.render_table({"b@x": "bob", "A@x": ["alice", "carol"]}, source="postfix_virtual_aliases")
    assert (
        text == "# Managed by Ansible (mailops.mailhost.postfix): postfix_virtual_aliases\nA@x alice, carol\nb@x bob\n"
    )


def test_render_table_writes_aliases_with_a_colon_and_an_empty_table_as_its_header():
    assert pc.render_table({"postmaster": "root"}, alias=True, source="postfix_aliases").endswith(
        "\npostmaster: root\n"
    )
    assert (
        pc.render_table({}, source="postfix_generic")
        == "# Managed by Ansible (mailops.mailhost.postfix): postfix_generic\n\n"
    )
