"""Unit tests for the security policy (plugins/module_utils/_policy.py)."""

from __future__ import annotations

import pytest

from ansible_collections.mailops.mailhost.plugins.module_utils._policy import enabled_protocols, violations

SAFE = {
    "mynetworks": "127.0.0.0/8, [::1]/128, 192.0.2.0/24",
    "smtpd_relay_restrictions": "permit_mynetworks, permit_sasl_authenticated, reject_unauth_destination",
    "smtpd_recipient_restrictions": "permit_mynetworks, permit_sasl_authenticated, reject_unauth_destination",
    "smtpd_tls_security_level": "may",
    "smtp_tls_security_level": "may",
    "smtpd_tls_protocols": "!SSLv2, !SSLv3, !TLSv1, !TLSv1.1",
    "smtp_tls_protocols": ">=TLSv1.2",
}
SUBMISSION = {
    "submission/inet": {
        "smtpd_tls_security_level": "encrypt",
        "smtpd_relay_restrictions": "permit_sasl_authenticated,reject",
    }
}


def test_safe_configuration_passes():
    assert violations(SAFE, SUBMISSION) == []


def test_messages_name_the_variable():
    errors = violations({**SAFE, "mynetworks": "0.0.0.0/0"}, names={"mynetworks": "postfix_mynetworks"})
    assert len(errors) == 1 and errors[0].startswith("postfix_mynetworks: '0.0.0.0/0'")
    assert "open relay" in errors[0]


@pytest.mark.parametrize("net", ["0.0.0.0/0", "::/0", "[::]/0", "0/0"])
def test_everything_networks_refused_even_when_wide_allowed(net):
    errors = violations({**SAFE, "mynetworks": f"127.0.0.0/8 {net}"}, options={"mynetworks_allow_wide": True})
    assert errors and ("open relay" in errors[0] or "is not a valid" in errors[0])


@pytest.mark.parametrize(
    "net,wide",
    [
        ("10.0.0.0/8", True),
        ("10.1.0.0/16", False),
        ("10.1.2.0/24", False),
        ("[2001:db8::]/32", True),
        ("[2001:db8::]/48", False),
    ],
)
def test_prefix_limit(net, wide):
    errors = violations({**SAFE, "mynetworks": net})
    assert bool(errors) is wide
    assert not violations({**SAFE, "mynetworks": net}, options={"mynetworks_allow_wide": True})


def test_loopback_is_never_too_wide():
    assert violations({**SAFE, "mynetworks": "127.0.0.0/8 [::1]/128"}) == []


@pytest.mark.parametrize("bad", ["10.0.0.0/33", "300.1.2.3", "example.com", "10.0.0.0/8/8", "[::1]/129"])
def test_invalid_networks_refused(bad):
    errors = violations({**SAFE, "mynetworks": f"127.0.0.0/8, {bad}"})
    assert errors == [errors[0]] and f"'{bad}' is not a valid" in errors[0]


def test_tables_files_expansions_and_negations_allowed_in_mynetworks():
    assert (
        violations({**SAFE, "mynetworks": "hash:/etc/postfix/network_table, /etc/postfix/nets, $extra, !192.0.2.1"})
        == []
    )


def test_mynetworks_style_subnet_without_mynetworks_refused():
    params = {k: v for k, v in SAFE.items() if k != "mynetworks"}
    assert violations({**params, "mynetworks_style": "subnet"})
    assert violations({**params, "mynetworks_style": "host"}) == []


@pytest.mark.parametrize(
    "relay,ok",
    [
        ("permit_mynetworks, reject_unauth_destination", True),
        ("permit_mynetworks, defer_unauth_destination", True),
        ("permit_sasl_authenticated, reject", True),
        ("permit, reject_unauth_destination", False),
        ("permit_mynetworks, permit_mx_backup, reject_unauth_destination", False),
        ("permit_mynetworks, permit_sasl_authenticated", False),
        ("reject_unauth_destination, permit", True),
    ],
)
def test_relay_restrictions(relay, ok):
    errors = violations({**SAFE, "smtpd_relay_restrictions": relay})
    assert (errors == []) is ok, errors


def test_bare_permit_first_in_recipient_restrictions_refused_even_with_safe_relay_list():
    errors = violations({**SAFE, "smtpd_recipient_restrictions": "permit, reject_unauth_destination"})
    assert errors and "smtpd_recipient_restrictions" in errors[0]


def test_empty_relay_list_needs_safe_recipient_list():
    assert violations({**SAFE, "smtpd_relay_restrictions": "", "smtpd_recipient_restrictions": "permit_mynetworks"})
    assert violations({**SAFE, "smtpd_relay_restrictions": ""}) == []


@pytest.mark.parametrize("level,ok", [("may", True), ("encrypt", True), ("none", False), ("", False), ("bogus", False)])
def test_server_tls_level(level, ok):
    assert (violations({**SAFE, "smtpd_tls_security_level": level}) == []) is ok


@pytest.mark.parametrize(
    "value,weak",
    [
        ("!SSLv2, !SSLv3, !TLSv1, !TLSv1.1", False),
        (">=TLSv1.2", False),
        ("TLSv1.2 TLSv1.3", False),
        ("!SSLv2, !SSLv3", True),
        (">=TLSv1", True),
        ("", True),
        ("<=TLSv1.3", True),
    ],
)
def test_tls_protocol_floor(value, weak):
    errors = violations({**SAFE, "smtpd_tls_protocols": value})
    assert bool(errors) is weak


def test_enabled_protocols():
    assert enabled_protocols("!SSLv2, !SSLv3, !TLSv1, !TLSv1.1") == {"TLSv1.2", "TLSv1.3"}
    assert enabled_protocols(">=TLSv1.3") == {"TLSv1.3"}


def test_submission_must_require_tls():
    errors = violations(SAFE, {"submission/inet": {"smtpd_tls_security_level": "may"}})
    assert errors and "submission" in errors[0] and "clear text" in errors[0]
    assert violations(SAFE, {"smtps/inet": {"smtpd_tls_wrappermode": "yes"}}) == []


def test_submission_relay_override_checked_with_expansion():
    params = {**SAFE, "mua_relay_restrictions": "permit"}
    services = {
        "submission/inet": {
            "smtpd_tls_security_level": "encrypt",
            "smtpd_relay_restrictions": "$mua_relay_restrictions",
        }
    }
    errors = violations(
        params, services, names={"submission/inet/smtpd_relay_restrictions": "postfix_submission_options"}
    )
    assert errors and errors[0].startswith("postfix_submission_options:")
