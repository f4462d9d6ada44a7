# Copyright: mailops.mailhost contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which platform data files a role loads: the platform's behaviour and the host's packages."""

from __future__ import annotations

import re

FAMILIES = ("Debian", "RedHat")
_PROFILE = re.compile(r"(?P<family>[A-Za-z]+)_(?P<major>[0-9]+)")


def parse_profile(profile: str) -> tuple[str, str]:
    """``RedHat_10`` -> (``RedHat``, ``10``); raises ValueError naming the rule."""
    match = _PROFILE.fullmatch(profile or "")
    if not match or match.group("family") not in FAMILIES:
        raise ValueError(
            f"mailhost_platform_profile: {profile!r} is not a platform profile; "
            f"use FAMILY_MAJOR with FAMILY one of {', '.join(FAMILIES)} (for example RedHat_10), or leave it empty"
        )
    return match.group("family"), match.group("major")


def vars_files(facts: dict, profile: str = "") -> list[str]:
    """The vars files to load, in order, for a host with these facts.

    ``<family>.yml`` and ``<family>_<major>.yml`` say how the platform behaves (table types,
    compatibility level, chroot, CA bundle, firewall); they come from the profile when one is
    given. ``host_<family>.yml`` and ``host_<family>_<major>.yml`` say what the host's own
    packages install (package names, units, users, log files) and always come from the host.
    """
    host_family = str(facts.get("os_family", ""))
    host_major = str(facts.get("distribution_major_version", ""))
    if host_family not in FAMILIES:
        raise ValueError(
            f"unsupported platform: os_family {host_family!r} (this collection supports {', '.join(FAMILIES)})"
        )
    family, major = parse_profile(profile) if profile else (host_family, host_major)
    return [
        f"{family}.yml",
        f"{family}_{major}.yml",
        f"host_{host_family}.yml",
        f"host_{host_family}_{host_major}.yml",
    ]
