"""Unit tests for plugins/module_utils/_postfix_rules.py: what Postfix reports only when mail flows."""

from __future__ import annotations

from ansible_collections.mailops.mailhost.plugins.module_utils import _postfix_rules as r

BASE = {"myhostname": "mx1.example.com", "mydomain": "example.com"}


def names(problems):
    return [param for param, _msg in problems]


def test_defaults_and_the_roles_defaults_pass():
    assert r.runtime_problems(BASE) == []
    assert r.runtime_problems({**BASE, "message_size_limit": "26214400"}) == []


def test_message_limit_above_postfix_default_mailbox_limit_is_named_with_both_values():
    problems = r.runtime_problems({**BASE, "message_size_limit": "52428800"})
    assert names(problems) == ["message_size_limit", "message_size_limit"]
    assert "mailbox_size_limit = 51200000 (Postfix's default)" in problems[0][1]
    assert "local(8)" in problems[0][1] and "virtual(8)" in problems[1][1]


def test_raising_both_limits_passes_and_zero_mailbox_limit_means_unlimited():
    big = {**BASE, "message_size_limit": "52428800", "mailbox_size_limit": "0", "virtual_mailbox_limit": "104857600"}
    assert r.runtime_problems(big) == []


def test_unlimited_messages_beside_a_virtual_mailbox_limit():
    problems = r.runtime_problems({**BASE, "message_size_limit": "0", "mailbox_size_limit": "0"})
    assert names(problems) == ["message_size_limit"] and "virtual(8)" in problems[0][1]


def test_queue_minfree_below_one_and_a_half_message_sizes():
    problems = r.runtime_problems({**BASE, "queue_minfree": "1000000"})
    assert names(problems) == ["queue_minfree"] and "at least 15360000" in problems[0][1]
    assert r.runtime_problems({**BASE, "queue_minfree": "15360000"}) == []


def test_a_domain_in_two_address_classes_after_expansion():
    params = {**BASE, "mydestination": "$myhostname, localhost, $mydomain", "virtual_alias_domains": "example.com"}
    problems = r.runtime_problems(params)
    assert names(problems) == ["virtual_alias_domains"]
    assert "example.com is listed in both mydestination and virtual_alias_domains" in problems[0][1]
    assert r.runtime_problems({**params, "virtual_alias_domains": "example.org"}) == []


def test_queue_limits_and_lifetimes():
    problems = r.runtime_problems(
        {**BASE, "qmgr_message_recipient_limit": "100", "bounce_queue_lifetime": "7d", "maximal_queue_lifetime": "3d"}
    )
    assert names(problems) == ["qmgr_message_recipient_limit", "bounce_queue_lifetime"]
    assert r.runtime_problems({**BASE, "bounce_queue_lifetime": "1d", "maximal_queue_lifetime": "72h"}) == []


def test_dane_without_dnssec_lookups():
    assert names(r.runtime_problems({**BASE, "smtp_tls_security_level": "dane"})) == ["smtp_tls_security_level"]
    assert r.runtime_problems({**BASE, "smtp_tls_security_level": "dane", "smtp_dns_support_level": "dnssec"}) == []


def test_expansion_follows_parameters_and_leaves_unknown_ones():
    assert r.expand("$a ${b} $c", {"a": "1", "b": "$a"}) == "1 1 $c"
