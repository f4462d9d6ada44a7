from __future__ import annotations

import pytest

from ansible_collections.mailops.mailhost.plugins.module_utils._platform import parse_profile, vars_files

DEBIAN_13 = {"os_family": "Debian", "distribution_major_version": "13"}


def test_host_platform_loads_its_own_behaviour_and_packages():
    assert vars_files({"os_family": "RedHat", "distribution_major_version": "9"}) == [
        "RedHat.yml",
        "RedHat_9.yml",
        "host_RedHat.yml",
        "host_RedHat_9.yml",
    ]


def test_profile_replaces_the_behaviour_and_keeps_the_hosts_packages():
    assert vars_files(DEBIAN_13, "RedHat_10") == [
        "RedHat.yml",
        "RedHat_10.yml",
        "host_Debian.yml",
        "host_Debian_13.yml",
    ]


@pytest.mark.parametrize("profile", ["RedHat", "redhat_10", "Suse_15", "RedHat_10.1", "../RedHat_9", "RedHat_9\n"])
def test_malformed_profile_is_refused_naming_the_variable(profile):
    with pytest.raises(ValueError, match="mailhost_platform_profile"):
        vars_files(DEBIAN_13, profile)


def test_unsupported_host_family_is_refused():
    with pytest.raises(ValueError, match="unsupported platform: os_family 'Suse'"):
        vars_files({"os_family": "Suse", "distribution_major_version": "15"})


def test_parse_profile():
    assert parse_profile("Debian_11") == ("Debian", "11")
