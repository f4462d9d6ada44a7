"""AlmaLinux 10's data on Debian 13 (fail2ban 1.1.0, firewalld 2.3.1, LMDB): behaviour, then the profile's settings."""

from __future__ import annotations

import re

import profile_checks
from profile_checks import MX, firewalld_services

# The behaviour every profile proves, collected in this module.
globals().update(profile_checks.SHARED)


def test_the_host_runs_el10s_fail2ban_and_firewalld(mx1):
    assert mx1.check_output("fail2ban-client --version").strip().endswith("1.1.0")
    assert mx1.check_output("firewall-cmd --version") == "2.3.1"


def test_no_berkeley_db_anywhere_in_main_cf(mx1):
    main_cf = mx1.check_output("cat /etc/postfix/main.cf")
    assert not re.search(r"\b(hash|btree):", main_cf), main_cf
    assert mx1.check_output("postconf -h default_database_type") == "lmdb"
    for name in ("smtpd_tls_session_cache_database", "smtp_tls_session_cache_database", "virtual_alias_maps"):
        assert mx1.check_output(f"postconf -h {name}").startswith("lmdb:"), name
    assert mx1.file("/etc/postfix/virtual.lmdb").exists
    assert mx1.file("/etc/aliases.lmdb").exists


def test_tls_session_cache_works_without_errors(mx1, outside):
    outside.run(f"openssl s_client -brief -starttls smtp -connect {MX}:25 </dev/null")
    log = mx1.run("journalctl -q --no-pager -u 'postfix*' -t postfix/tlsmgr").stdout
    assert "unsupported dictionary type" not in log and "error" not in log.lower(), log


def test_el10_data_is_live(mx1):
    assert mx1.check_output("postconf -h compatibility_level") == "3.6"
    assert mx1.check_output("postconf -h smtp_tls_CAfile") == "/etc/pki/tls/certs/ca-bundle.crt"
    for service in ("smtp/inet", "submission/inet", "smtps/inet"):
        assert mx1.check_output(f"postconf -M {service}").split()[4] == "n", service


def test_firewalld_opens_submission_under_its_2x_name_and_smtps(mx1):
    services = firewalld_services(mx1)
    assert {"smtp", "submission", "smtps"} <= services, services
    assert "smtp-submission" not in services and "http" not in services, services
