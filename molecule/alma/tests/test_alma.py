"""The postfix role on AlmaLinux 9 (Postfix 3.5) and 10 (Postfix 3.8, LMDB tables)."""

from __future__ import annotations

import pytest
from conftest_common import container_ip, podman_host, run_json

HOSTS = {"alma9": ("mx9.example.test", "hash"), "alma10": ("mx10.example.test", "lmdb")}


@pytest.fixture(scope="module")
def client():
    return podman_host("elclient")


@pytest.mark.parametrize("name", HOSTS)
def test_postfix_replaced_sendmail_and_runs(name):
    host = podman_host(name)
    assert host.package("postfix").is_installed
    assert not host.package("sendmail").is_installed
    assert host.run("postfix status").rc == 0
    assert host.service("postfix").is_enabled


@pytest.mark.parametrize("name", HOSTS)
def test_tables_use_the_platform_database_type(name):
    host = podman_host(name)
    fqdn, table_type = HOSTS[name]
    assert host.check_output("postconf -h virtual_alias_maps") == f"{table_type}:/etc/postfix/virtual"
    assert host.check_output("postconf -h alias_maps") == f"{table_type}:/etc/aliases"
    assert host.check_output(f"postalias -q postmaster {table_type}:/etc/aliases") == "root"


@pytest.mark.parametrize("name", HOSTS)
def test_banner_tls_and_relay_from_outside(client, name):
    fqdn, _table = HOSTS[name]
    address = container_ip(name)
    talk = run_json(client, f"smtpcheck talk {address} 25 EHLO")
    assert talk["banner"] == [220, f"{fqdn} ESMTP"]
    assert "starttls" in talk["replies"][0]["features"]
    results = run_json(client, f"smtpcheck relay {address} 25 example.test")
    assert all(500 <= r["rcpt_code"] < 600 for r in results), results
    old_tls = f"openssl s_client -brief -starttls smtp -connect {address}:25 -tls1_1 -cipher DEFAULT@SECLEVEL=0"
    assert client.run(old_tls + " </dev/null").rc != 0


@pytest.mark.parametrize("name", HOSTS)
def test_tls_protocols_use_syntax_postfix_35_understands(name):
    value = podman_host(name).check_output("postconf -h smtpd_tls_protocols")
    assert value == "!SSLv2, !SSLv3, !TLSv1, !TLSv1.1"  # not '>=TLSv1.2', which Postfix 3.5 cannot parse
