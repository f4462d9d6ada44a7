"""Unit tests for plugins/module_utils/_preflight.py: the stack's rules, one line per problem, secrets hidden."""

from __future__ import annotations

import pytest

from ansible_collections.mailops.mailhost.plugins.module_utils import _preflight as pf

VALUES = {
    "postfix_myhostname": "mx1.example.com",
    "postfix_mydomain": "example.com",
    "postfix_mydestination": ["$myhostname", "localhost"],
    "postfix_smtpd_banner": "$myhostname ESMTP",
    "postfix_main_cf": {},
    "postfix_message_size_limit": 26214400,
    "postfix_sasl_enabled": False,
    "postfix_probe": True,
    "opendkim_keys": [{"domain": "example.com", "selector": "mail2026"}],
    "opendkim_key_bits": 2048,
    "opendkim_signing": {},
    "opendkim_trusted_hosts": ["127.0.0.0/8", "[::1]/128"],
    "dovecot_sasl_passdb": "passwd-file",
    "dovecot_sasl_users": [{"name": "alice", "password_hash": "$6$salt$hash"}],
    "dovecot_sasl_postfix_path": "private/auth",
    "certbot_domains": ["mx1.example.com"],
    "certbot_email": "postmaster@example.com",
    "certbot_key_type": "rsa",
    "certbot_rsa_key_size": 2048,
    "fail2ban_ignoreip_extra": [],
    "fail2ban_maxretry": 5,
}
PARAMS = {"myhostname": "mx1.example.com", "mydomain": "example.com", "mydestination": "$myhostname, localhost"}
ROLES = ["firewall", "certbot", "opendkim", "dovecot_sasl", "postfix", "fail2ban"]


def problems(**changes):
    values = {**VALUES, **changes}
    params = {**PARAMS, **changes.pop("params", {})}
    return pf.stack_problems(values, ROLES, params)


def test_the_defaults_pass():
    assert problems() == []


@pytest.mark.parametrize(
    "changes,expected",
    [
        ({"postfix_myhostname": "mailhost"}, "postfix_myhostname: 'mailhost' must be a fully qualified domain name"),
        ({"postfix_mydestination": ["$myhostname", "example test"]}, "postfix_mydestination[1]: 'example test'"),
        ({"postfix_smtpd_banner": "$myhostname ESMTP Postfix 3.7.11"}, "must not name the software (Postfix)"),
        ({"postfix_smtpd_banner": "$myhostname $mail_name"}, "must not expand $mail_name"),
        ({"postfix_main_cf": {"smtpd_banner": "$myhostname ESMTP Postfix (Debian)"}}, "postfix_main_cf.smtpd_banner"),
        ({"postfix_main_cf": {"always_bcc": "a@example.com\nrelayhost = evil"}}, "postfix_main_cf.always_bcc"),
        ({"opendkim_keys": [{"domain": "example test", "selector": "s1"}]}, "opendkim_keys[0].domain: 'example test'"),
        ({"opendkim_keys": [{"domain": "example.com", "selector": "my selector"}]}, "opendkim_keys[0].selector"),
        ({"opendkim_keys": [{"domain": "example.com", "selector": "../x"}]}, "opendkim_keys[0].selector"),
        (
            {"opendkim_keys": [{"domain": "example.com", "selector": "s", "bits": 100000}]},
            "opendkim_keys[0].bits: 100000",
        ),
        ({"opendkim_signing": {"example.com": "nope"}}, "opendkim_signing.example.com: 'nope' names no key"),
        ({"opendkim_trusted_hosts": ["0.0.0.0/0"]}, "opendkim_trusted_hosts: '0.0.0.0/0' trusts every address"),
        ({"opendkim_trusted_hosts": ["10.0.0.0/8"]}, "gets its mail signed"),
        ({"postfix_sasl_enabled": True, "postfix_sasl_path": "private/other"}, "postfix_sasl_path: 'private/other'"),
        ({"dovecot_sasl_users": [{"name": "al ice", "password_hash": "$6$s$h"}]}, "dovecot_sasl_users[0].name"),
        ({"certbot_domains": ["mail"]}, "certbot_domains[0]: 'mail'"),
        ({"certbot_email": "nobody"}, "certbot_email: 'nobody'"),
        ({"fail2ban_ignoreip_extra": ["0.0.0.0/0"]}, "would exempt every address from bans"),
        ({"fail2ban_maxretry": 0}, "fail2ban_maxretry: 0 must be at least 1"),
        ({"postfix_mydestination": ["localhost"], "params": {"mydestination": "localhost"}}, "must list $myhostname"),
        ({"params": {"message_size_limit": "52428800"}}, "postfix_message_size_limit: message_size_limit = 52428800"),
        (
            {"params": {"queue_minfree": "100"}, "postfix_main_cf": {"queue_minfree": 100}},
            "postfix_main_cf.queue_minfree",
        ),
    ],
)
def test_each_rule_names_the_variable_and_its_value(changes, expected):
    found = problems(**changes)
    assert any(expected in line for line in found), found
    assert all("\n" not in line for line in found)


def test_password_hashes_and_private_keys_are_never_shown():
    secret_hash, secret_key = "plain-secret-password", "-----BEGIN KEY----- not a private one"
    found = problems(
        dovecot_sasl_users=[{"name": "alice", "password_hash": secret_hash}],
        opendkim_keys=[{"domain": "example.com", "selector": "s1", "private_key": secret_key}],
    )
    assert len(found) == 2 and all("(hidden)" in line for line in found), found
    assert secret_hash not in str(found) and "not a private one" not in str(found)


def test_sasl_without_the_dovecot_role():
    found = pf.stack_problems(
        {**VALUES, "postfix_sasl_enabled": True, "postfix_sasl_path": "private/auth"}, ["postfix"], PARAMS
    )
    assert found and "needs the dovecot_sasl role" in found[0]


def test_unknown_variables_name_the_nearest_known_one():
    known = {"postfix_mynetworks", "postfix_myhostname", "opendkim_keys"}
    found = pf.unknown_variables(
        ["postfix_mynetwork", "opendkim_key", "postfix_whatever_else", "other", "__postfix_x"], known
    )
    assert found[0].startswith("opendkim_key: unknown variable; did you mean opendkim_keys?")
    assert found[1].startswith("postfix_mynetwork: unknown variable; did you mean postfix_mynetworks?")
    assert "no role of mailops.mailhost reads it" in found[2] and len(found) == 3
