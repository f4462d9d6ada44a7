"""Unit tests for plugins/module_utils/_master_cf.py: master.cf entries and what Postfix accepts in them."""

from __future__ import annotations

import pytest

from ansible_collections.mailops.mailhost.plugins.module_utils import _master_cf as m

KNOWN = {"syslog_name", "smtpd_tls_security_level", "smtpd_sasl_security_options", "smtpd_sasl_auth_enable"}
GOOD = (
    "smtp inet n - y - - smtpd\n"
    "submission inet n - y - - smtpd\n"
    "  -o syslog_name=postfix/submission\n"
    "  -o { smtpd_sasl_security_options = noanonymous, noplaintext }\n"
    "pickup unix n - y 60 1 pickup\n"
    "qmgr unix n - n 300? 1 qmgr\n"
    "maildrop unix - n n - - pipe flags=DRhu user=vmail argv=/usr/bin/maildrop -d ${recipient}\n"
)


def test_a_good_master_cf_has_no_problems_and_braces_keep_spaces():
    assert m.master_problems(GOOD, KNOWN) == []
    submission = m.parse_master_cf(GOOD)[1]
    assert submission.options["smtpd_sasl_security_options"] == "noanonymous, noplaintext"


def test_a_value_with_a_space_is_an_extra_argument_postfix_would_refuse():
    text = "submission inet n - y - - smtpd\n  -o smtpd_tls_security_level=encrypt may\n"
    assert any("'may' is not an option of smtpd" in p for p in m.master_problems(text, KNOWN))


def test_unknown_option_names_are_refused_for_that_postfix_version():
    text = "submission inet n - y - - smtpd\n  -o smtpd_bogus=1\n"
    assert m.master_problems(text, KNOWN) == [
        "master.cf service submission/inet: -o smtpd_bogus: this Postfix version has no parameter 'smtpd_bogus'"
    ]


@pytest.mark.parametrize(
    "entry,fragment",
    [
        ("smtp tcp n - y - - smtpd", "type 'tcp'"),
        ("smtp inet x - y - - smtpd", "private must be y, n or -"),
        ("smtp inet n - y never - smtpd", "wakeup"),
        ("smtp inet n - y - many smtpd", "maxproc"),
        ("smtp inet n - y - smtpd", "fewer than 8 fields"),
        ("smtp inet n - y - - smtpd -o =x", "must be name=value"),
    ],
)
def test_bad_fields_are_refused(entry, fragment):
    assert any(fragment in p for p in m.master_problems(entry + "\n", KNOWN)), m.master_problems(entry + "\n", KNOWN)


def test_duplicates_and_nul_are_refused():
    assert "defined twice" in m.master_problems("smtp inet n - y - - smtpd\nsmtp inet n - y - - smtpd\n")[0]
    assert m.master_problems("smtp inet n - y - - smtpd\x00\n") == ["master.cf: must not contain a NUL byte"]


def test_unbalanced_brace():
    assert "unbalanced" in m.master_problems("smtp inet n - y - - smtpd -o { a = b\n")[0]
