"""Unit tests for plugins/module_utils/_osinfo.py."""

from __future__ import annotations

import pytest

from ansible_collections.mailops.mailhost.plugins.module_utils import _osinfo

ALMA9 = (
    'NAME="AlmaLinux"\nVERSION="9.4 (Seafoam Ocelot)"\nID="almalinux"\nID_LIKE="rhel centos fedora"\nVERSION_ID="9.4"\n'
)
ALMA10 = 'NAME="AlmaLinux"\nID="almalinux"\nID_LIKE="rhel centos fedora"\nVERSION_ID="10.0"\n'
DEBIAN12 = 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\nVERSION_ID="12"\nID=debian\n'
UBUNTU = 'NAME="Ubuntu"\nVERSION_ID="24.04"\nID=ubuntu\nID_LIKE=debian\n'
OTHER_EL = 'NAME="Some EL"\nID="someel"\nID_LIKE="rhel"\nVERSION_ID="9.2"\n'


@pytest.mark.parametrize(
    "text,family,dist,major",
    [
        (ALMA9, "RedHat", "AlmaLinux", "9"),
        (ALMA10, "RedHat", "AlmaLinux", "10"),
        (DEBIAN12, "Debian", "Debian", "12"),
        (UBUNTU, "Debian", "Ubuntu", "24"),
        (OTHER_EL, "RedHat", "Some", "9"),
        ("", "unknown", "unknown", ""),
    ],
)
def test_os_facts(text, family, dist, major):
    facts = _osinfo.os_facts(_osinfo.parse_os_release(text))
    assert (facts["os_family"], facts["distribution"], facts["distribution_major_version"]) == (family, dist, major)


def test_dpkg_status_parsing():
    out = "postfix install ok installed\nopendkim deinstall ok config-files\nsendmail unknown ok not-installed\n"
    assert _osinfo.installed_from_dpkg(out) == {"postfix"}


def test_rpm_query_parsing():
    out = "postfix\npackage sendmail is not installed\nopenssl\n"
    assert _osinfo.installed_from_rpm(out) == {"postfix", "openssl"}


def test_parse_x509_text():
    text = (
        "serial=0A1BC2\nnotAfter=Feb 25 01:00:00 2027 GMT\nX509v3 Subject Alternative Name: \n"
        "    DNS:mx1.example.com, DNS:smtp.example.com\nCertificate:\n    Data:\n"
        "        Subject Public Key Info:\n            Public Key Algorithm: rsaEncryption\n"
        "                Public-Key: (2048 bit)\n"
    )
    info = _osinfo.parse_x509_text(text)
    assert info["names"] == ["mx1.example.com", "smtp.example.com"] and info["serial"] == "0A1BC2"
    assert info["key_type"] == "rsa" and info["key_bits"] == 2048 and info["not_after"].endswith("2027 GMT")
    ec = _osinfo.parse_x509_text("serial=01\nPublic Key Algorithm: id-ecPublicKey\n Public-Key: (256 bit)\n")
    assert ec["key_type"] == "ecdsa" and ec["key_bits"] == 256


def test_systemctl_show_blocks_keep_unit_order_with_missing_units():
    text = "ActiveState=inactive\nUnitFileState=\n\nActiveState=active\nUnitFileState=enabled\n"
    assert _osinfo.parse_systemctl_show(text) == [
        {"active": False, "enabled": False},
        {"active": True, "enabled": True},
    ]


ALMA_CRB_REPO = """[crb]
name=AlmaLinux $releasever - CRB
mirrorlist=https://mirrors.almalinux.org/mirrorlist/$releasever/crb
enabled=0

[crb-debuginfo]
name=AlmaLinux $releasever - CRB debuginfo
enabled=0
"""
EPEL_REPO = "[epel]\nname=Extra Packages\nmetalink=https://example/metalink\n# enabled=0 in a comment\n"


def test_enabled_repos_reads_enabled_flags_and_defaults_to_enabled():
    assert _osinfo.enabled_repos([ALMA_CRB_REPO, EPEL_REPO]) == {"epel"}
    assert _osinfo.enabled_repos([ALMA_CRB_REPO.replace("enabled=0", "enabled=1", 1)]) == {"crb"}
    assert _osinfo.enabled_repos([]) == set()
