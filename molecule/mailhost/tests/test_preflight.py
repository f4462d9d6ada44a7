"""Bad input is refused by the pre-flight, before any host is touched, with a message naming the variable.

The catalogue runs as one ansible-playbook run of the stack's converge over an inventory of one
host per case, each an alias of the mx1 container with the case's variables (the forks run them
side by side). Every case must fail at the pre-flight with its message and change nothing; the
fingerprint of mx1 (its configuration files, daemon PIDs and queue) is taken before and after.
"""

from __future__ import annotations

import pytest
from conftest import case_inventory, fingerprint, stack_run

KEY = {"domain": "example.test", "selector": "stack1"}
# (variables, a line the refusal must carry)
CATALOGUE = {
    # the issue's own findings
    "open-relay-v4": ({"postfix_mynetworks": ["0.0.0.0/0"]}, "postfix_mynetworks: '0.0.0.0/0' trusts every address"),
    "open-relay-v6": (
        {"postfix_mynetworks": ["127.0.0.0/8", "::/0"]},
        "postfix_mynetworks: '::/0' trusts every address",
    ),
    "dkim-selector-space": (
        {"opendkim_keys": [{"domain": "example.test", "selector": "my selector"}]},
        "opendkim_keys[0].selector: 'my selector'",
    ),
    "dkim-domain-space": (
        {"opendkim_keys": [{"domain": "example test", "selector": "s1"}]},
        "opendkim_keys[0].domain: 'example test'",
    ),
    "size-above-mailbox": (
        {"postfix_message_size_limit": 52428800},
        "postfix_message_size_limit: message_size_limit = 52428800 is larger than mailbox_size_limit",
    ),
    "hostname-not-fqdn": (
        {"postfix_myhostname": "mailhost"},
        "postfix_myhostname: 'mailhost' must be a fully qualified domain name",
    ),
    "banner-version": (
        {"postfix_smtpd_banner": "$myhostname ESMTP Postfix 3.7.11"},
        "postfix_smtpd_banner: '$myhostname ESMTP Postfix 3.7.11' must not name the software",
    ),
    "banner-mail-name": ({"postfix_smtpd_banner": "$myhostname ESMTP $mail_name"}, "must not expand $mail_name"),
    "misspelt-variable": (
        {"postfix_mynetwork": ["192.0.2.1/32"]},
        "postfix_mynetwork: unknown variable; did you mean postfix_mynetworks?",
    ),
    "misspelt-dkim": ({"opendkim_key": [KEY]}, "opendkim_key: unknown variable; did you mean opendkim_keys?"),
    # wrong types and choices, from the roles' argument specs
    "type-int": ({"postfix_message_size_limit": "huge"}, "postfix_message_size_limit: 'huge' is not an int"),
    "type-bool": ({"postfix_smtpd_helo_required": "maybe"}, "postfix_smtpd_helo_required: 'maybe' is not a bool"),
    "type-dict": (
        {"postfix_virtual_aliases": "info@example.test alice"},
        "postfix_virtual_aliases: 'info@example.test alice' is not a dict",
    ),
    "type-list": (
        {"postfix_mydestination": {"example.test": 1}},
        'postfix_mydestination: {"example.test": 1} is not a list',
    ),
    "type-nested": (
        {"opendkim_keys": [{"domain": "example.test", "selector": "s1", "bits": "many"}]},
        "opendkim_keys[0].bits: 'many' is not an int",
    ),
    "entry-unknown-key": (
        {"opendkim_keys": [{"domain": "example.test", "selector": "s1", "key": "x"}]},
        "opendkim_keys.key: unknown key",
    ),
    "entry-missing-key": (
        {"dovecot_sasl_users": [{"name": "bob"}]},
        "dovecot_sasl_users: every entry needs password_hash",
    ),
    "choice-protocols": ({"postfix_inet_protocols": "ipv5"}, "postfix_inet_protocols: 'ipv5' is not one of"),
    "choice-firewall": ({"mailhost_firewall": "iptables"}, "mailhost_firewall: 'iptables' is not one of"),
    # the security policy
    "mynetworks-wide": ({"postfix_mynetworks": ["10.0.0.0/8"]}, "postfix_mynetworks: '10.0.0.0/8' is wider than /16"),
    "mynetworks-bad": ({"postfix_mynetworks": ["300.1.2.3"]}, "postfix_mynetworks: '300.1.2.3' is not a valid"),
    "relay-permit-first": (
        {"postfix_smtpd_relay_restrictions": ["permit", "reject_unauth_destination"]},
        "postfix_smtpd_relay_restrictions: 'permit' comes before",
    ),
    "relay-no-stopper": (
        {"postfix_smtpd_relay_restrictions": ["permit_mynetworks"]},
        "has no reject_unauth_destination",
    ),
    "tls-off": (
        {"postfix_smtpd_tls_security_level": "none"},
        "postfix_smtpd_tls_security_level: 'none' is not one of may, encrypt",
    ),
    "tls-old": (
        {"postfix_tls_protocols": "!SSLv2, !SSLv3"},
        "postfix_tls_protocols: '!SSLv2, !SSLv3' leaves TLSv1, TLSv1.1 enabled",
    ),
    "submission-clear": (
        {"postfix_submission_options": {"smtpd_tls_security_level": "may"}},
        "postfix_submission_options.smtpd_tls_security_level",
    ),
    "main-cf-relay": ({"postfix_main_cf": {"mynetworks": "0.0.0.0/0"}}, "postfix_main_cf.mynetworks"),
    "listener-injection": (
        {"postfix_submission_options": {"syslog_name": "postfix/submission\n2526 inet n - y - - smtpd"}},
        "postfix_submission_options.syslog_name: the value must be a single line",
    ),
    "parameter-injection": (
        {"postfix_main_cf": {"always_bcc": "x@example.test\nrelayhost = evil"}},
        "postfix_main_cf.always_bcc: the value must be a single line",
    ),
    # rules Postfix reports only when mail flows, and names
    "domain-two-classes": (
        {"postfix_virtual_alias_domains": ["example.test"]},
        "postfix_virtual_alias_domains: example.test is listed in both mydestination and virtual_alias_domains",
    ),
    "queue-minfree": (
        {"postfix_main_cf": {"queue_minfree": 1000}},
        "postfix_main_cf.queue_minfree: queue_minfree = 1000 is less than 1.5 x message_size_limit",
    ),
    "destination-space": (
        {"postfix_mydestination": ["$myhostname", "example test"]},
        "postfix_mydestination[1]: 'example test'",
    ),
    "probe-not-local": (
        {"postfix_mydestination": ["localhost"]},
        'postfix_mydestination: ["localhost"] must list $myhostname',
    ),
    # DKIM, SASL, fail2ban, certbot
    "dkim-short": ({"opendkim_key_bits": 1024}, "opendkim_key_bits: 1024 must be from 2048"),
    "dkim-huge": (
        {"opendkim_keys": [{"domain": "example.test", "selector": "s1", "bits": 3000000}]},
        "opendkim_keys[0].bits: 3000000 must be from 2048",
    ),
    "dkim-traversal": (
        {"opendkim_keys": [{"domain": "example.test", "selector": "../../../tmp/x"}]},
        "opendkim_keys[0].selector: '../../../tmp/x'",
    ),
    "dkim-signing-unknown": (
        {"opendkim_signing": {"example.test": "nope"}},
        "opendkim_signing.example.test: 'nope' names no key",
    ),
    "dkim-signs-everyone": (
        {"opendkim_trusted_hosts": ["0.0.0.0/0"]},
        "opendkim_trusted_hosts: '0.0.0.0/0' trusts every address",
    ),
    "sasl-socket-elsewhere": (
        {"postfix_sasl_path": "private/dovecot-auth"},
        "postfix_sasl_path: 'private/dovecot-auth' must be where Dovecot puts its auth socket",
    ),
    "sasl-plain-password": (
        {"dovecot_sasl_users": [{"name": "alice", "password_hash": "correct horse"}]},
        "dovecot_sasl_users[0].password_hash: (hidden) must be a crypt hash",
    ),
    "fail2ban-off": (
        {"fail2ban_ignoreip_extra": ["0.0.0.0/0"]},
        "fail2ban_ignoreip_extra[0]: '0.0.0.0/0' would exempt every address",
    ),
    "fail2ban-zero": ({"fail2ban_maxretry": 0}, "fail2ban_maxretry: 0 must be at least 1"),
    "certbot-email": ({"certbot_email": "nobody"}, "certbot_email: 'nobody' must be an address"),
    "certbot-name": (
        {"certbot_email": "postmaster@example.test", "certbot_domains": ["mail"]},
        "certbot_domains[0]: 'mail'",
    ),
    # combinations across roles: every problem is listed, none of the roles ran
    "relay-and-dkim": (
        {"postfix_mynetworks": ["0.0.0.0/0"], "opendkim_keys": [{"domain": "example.test", "selector": "a b"}]},
        "postfix_mynetworks: '0.0.0.0/0'",
    ),
}


@pytest.fixture(scope="module")
def refused(mx1, tmp_path_factory):
    before = fingerprint(mx1)
    inventory = case_inventory(tmp_path_factory.mktemp("cases"), {name: v for name, (v, _m) in CATALOGUE.items()})
    run = stack_run(inventory_extra=inventory, limit=",".join(CATALOGUE), args=("--forks", "16"))
    after = fingerprint(mx1)
    return run, before, after


def test_the_catalogue_has_at_least_thirty_cases():
    assert len(CATALOGUE) >= 30


@pytest.mark.parametrize("case", list(CATALOGUE))
def test_refused_at_the_preflight_naming_the_variable_and_the_rule(refused, case):
    run, _before, _after = refused
    failed = run.failed_task(case)
    assert failed, f"{case} was accepted:\n{run.output[-2000:]}"
    task, result = failed
    assert task.endswith("Pre-flight of the whole stack, on the controller, before any host is touched"), (
        task,
        result.get("msg"),
    )
    expected = CATALOGUE[case][1]
    assert any(expected in line for line in result["problems"]), result["problems"]
    assert all("\n" not in line for line in result["problems"])
    assert run.stats[case]["changed"] == 0


def test_no_case_touched_the_host(refused):
    _run, before, after = refused
    assert after == before


def test_the_combination_lists_every_problem(refused):
    run, _before, _after = refused
    problems = run.failed_task("relay-and-dkim")[1]["problems"]
    assert any(p.startswith("opendkim_keys[0].selector") for p in problems), problems


def test_the_secret_of_a_refused_hash_is_not_shown(refused):
    run, _before, _after = refused
    assert "correct horse" not in run.output
