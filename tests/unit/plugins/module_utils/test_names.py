"""Unit tests for plugins/module_utils/_names.py: the syntax of names, one rule for controller and host."""

from __future__ import annotations

import pytest

from ansible_collections.mailops.mailhost.plugins.module_utils import _names as n


@pytest.mark.parametrize("name", ["mail.example.com", "mx1.example.test", "a-b.example.co.uk", "mail.example.com."])
def test_fully_qualified_names_pass(name):
    assert n.hostname_problem(name) is None


@pytest.mark.parametrize(
    "name,rule",
    [
        ("mailhost", "at least one dot"),
        ("example test", "dot-separated labels"),
        ("example..com", "dot-separated labels"),
        ("-bad.example.com", "dot-separated labels"),
        ("a/b.example.com", "dot-separated labels"),
        ("mail.example.com\nrelayhost = evil", "single line"),
        ("mail\x00.example.com", "NUL"),
        ("192.0.2.1", "not an address"),
        ("", "fully qualified"),
    ],
)
def test_names_that_are_not_fqdns_are_refused_with_the_rule(name, rule):
    assert rule in n.hostname_problem(name)


@pytest.mark.parametrize("selector", ["mail2026", "s1.example", "dkim_2026-a", "2026"])
def test_rfc6376_selectors_pass(selector):
    assert n.selector_problem(selector) is None


@pytest.mark.parametrize("selector", ["my selector", "../../etc/x", "a/b", "", "a..b", "sel\n", ".lead"])
def test_selectors_with_spaces_slashes_or_empty_labels_are_refused(selector):
    assert n.selector_problem(selector)


@pytest.mark.parametrize(
    "entry", ["$myhostname", "localhost", "localhost.$mydomain", "example.test", "hash:/etc/postfix/x"]
)
def test_destination_entries(entry):
    assert n.destination_problem(entry) is None


def test_destination_with_a_space_is_refused():
    assert "labels" in n.destination_problem("example test")


@pytest.mark.parametrize(
    "banner,rule",
    [
        ("$myhostname ESMTP Postfix 3.7.11", "Postfix"),
        ("$myhostname ESMTP $mail_name", "$mail_name"),
        ("$myhostname ESMTP ${mail_version}", "$mail_version"),
        ("$myhostname ESMTP MTA 3.7", "version"),
        ("ESMTP ready", "start with $myhostname"),
        ("$myhostname ESMTP\nEHLO", "single line"),
    ],
)
def test_banners_naming_the_software_or_a_version_are_refused(banner, rule):
    assert rule in n.banner_problem(banner, "mx1.example.com")


@pytest.mark.parametrize("banner", ["$myhostname ESMTP", "${myhostname} ESMTP ready", "mx1.example.com ESMTP"])
def test_plain_banners_pass(banner):
    assert n.banner_problem(banner, "mx1.example.com") is None
