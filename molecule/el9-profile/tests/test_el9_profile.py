"""AlmaLinux 9's data on Debian 11 (Postfix 3.5.25, Python 3.9): behaviour, then the profile's own settings."""

from __future__ import annotations

import profile_checks
from profile_checks import firewalld_services

# The behaviour every profile proves, collected in this module.
globals().update(profile_checks.SHARED)


def test_the_host_runs_el9s_postfix_and_python(mx1):
    assert mx1.check_output("postconf -h mail_version") == "3.5.25"
    assert mx1.check_output("python3 -c 'import sys; print(sys.version_info[:2])'") == "(3, 9)"


def test_el9_data_is_live(mx1):
    assert mx1.check_output("postconf -h compatibility_level") == "2"
    assert mx1.check_output("postconf -h smtp_tls_CAfile") == "/etc/pki/tls/certs/ca-bundle.crt"
    assert mx1.check_output("postconf -h virtual_alias_maps").startswith("hash:")
    assert mx1.check_output("postconf -h smtpd_tls_session_cache_database").startswith("btree:")
    for service in ("smtp/inet", "submission/inet", "smtps/inet"):
        fields = mx1.check_output(f"postconf -M {service}").split()
        assert fields[4] == "n", f"{service} runs chrooted: {fields}"


def test_firewalld_opens_smtp_submission_under_its_1x_name_and_smtps(mx1):
    services = firewalld_services(mx1)
    assert {"smtp", "smtp-submission", "smtps"} <= services, services
    assert "submission" not in services and "http" not in services, services
