"""The whole stack on AlmaLinux 9 (Postfix 3.5, firewalld 1.3) or 10 (Postfix 3.8, LMDB only, firewalld 2.3)."""

from __future__ import annotations

import os
import re

import profile_checks
from profile_checks import firewalld_services

# The behaviour every profile proves, collected in this module.
globals().update(profile_checks.SHARED)

VERSION = os.environ.get("MOLECULE_ALMA_VERSION", "9")


def test_postfix_replaced_sendmail_and_runs(mx1):
    assert mx1.package("postfix").is_installed
    assert not mx1.package("sendmail").is_installed
    assert mx1.run("postfix status").rc == 0
    assert mx1.service("postfix").is_enabled


def test_epel_and_crb_are_enabled_and_the_epel_packages_installed(mx1):
    enabled = mx1.check_output("dnf repolist --enabled")
    assert re.search(r"^epel\s", enabled, re.MULTILINE) and re.search(r"^crb\s", enabled, re.MULTILINE), enabled
    for package in ("opendkim", "fail2ban-server", "fail2ban-firewalld"):
        assert mx1.package(package).is_installed, package


def test_tables_and_caches_use_the_platform_database_type(mx1):
    table_type = "lmdb" if VERSION == "10" else "hash"
    cache_type = "lmdb" if VERSION == "10" else "btree"
    assert mx1.check_output("postconf -h virtual_alias_maps") == f"{table_type}:/etc/postfix/virtual"
    assert mx1.check_output(f"postalias -q postmaster {table_type}:/etc/aliases") == "root"
    assert mx1.check_output("postconf -h smtpd_tls_session_cache_database").startswith(f"{cache_type}:")
    if VERSION == "10":
        assert not re.search(r"\b(hash|btree):", mx1.check_output("cat /etc/postfix/main.cf"))


def test_tls_protocols_use_syntax_postfix_35_understands(mx1):
    value = mx1.check_output("postconf -h smtpd_tls_protocols")
    assert value == "!SSLv2, !SSLv3, !TLSv1, !TLSv1.1"  # not '>=TLSv1.2', which Postfix 3.5 cannot parse


def test_firewalld_opens_submission_under_the_name_this_release_knows(mx1):
    services = firewalld_services(mx1)
    submission = "submission" if VERSION == "10" else "smtp-submission"
    assert {"smtp", submission, "smtps"} <= services, services
    assert "http" not in services, services
