# Copyright: mailops.mailhost contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pure parsing of what mailhost_facts reads: os-release, package and unit states, certificates, repositories."""

from __future__ import annotations

import re
import shlex

_FAMILIES = {
    "RedHat": ("rhel", "centos", "fedora", "almalinux", "rocky", "ol", "amzn"),
    "Debian": ("debian", "ubuntu", "raspbian", "linuxmint"),
}
_DISTRIBUTIONS = {"almalinux": "AlmaLinux", "rhel": "RedHat", "centos": "CentOS", "rocky": "Rocky", "debian": "Debian"}


def parse_os_release(text: str) -> dict[str, str]:
    values: dict[str, str] = {}
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep and key.strip() and not key.startswith("#"):
            parsed = shlex.split(value, posix=True)
            values[key.strip()] = parsed[0] if parsed else ""
    return values


def os_facts(os_release: dict[str, str]) -> dict[str, str]:
    """os_family, distribution, distribution_version and distribution_major_version."""
    ident = os_release.get("ID", "").lower()
    like = os_release.get("ID_LIKE", "").lower().split()
    family = next((fam for fam, ids in _FAMILIES.items() if ident in ids), None)
    if family is None:
        family = next((fam for fam, ids in _FAMILIES.items() if any(i in ids for i in like)), "unknown")
    version = os_release.get("VERSION_ID", "")
    return {
        "os_family": family,
        "distribution": _DISTRIBUTIONS.get(ident, os_release.get("NAME", ident).split()[0] if ident else "unknown"),
        "distribution_version": version,
        "distribution_major_version": version.split(".")[0] if version else "",
    }


def installed_from_dpkg(output: str) -> set[str]:
    """Names marked 'install ok installed' in ``dpkg-query -W -f '${Package} ${Status}\\n'`` output."""
    names = set()
    for line in output.splitlines():
        parts = line.split()
        if len(parts) >= 4 and parts[1:4] == ["install", "ok", "installed"]:
            names.add(parts[0])
    return names


def installed_from_rpm(output: str) -> set[str]:
    """Names in ``rpm -q --qf '%{NAME}\\n'`` output (lines for missing packages say 'not installed')."""
    return {line.strip() for line in output.splitlines() if line.strip() and " " not in line.strip()}


def parse_x509_text(text: str) -> dict:
    """Names, serial, expiry and key type from 'openssl x509 -noout -serial -enddate -ext subjectAltName -text'."""
    serial = re.search(r"^serial=([0-9A-Fa-f]+)", text, re.MULTILINE)
    end = re.search(r"^notAfter=(.+)$", text, re.MULTILINE)
    names = sorted(set(re.findall(r"DNS:([^,\s]+)", text)))
    algorithm = re.search(r"Public Key Algorithm:\s*(\S+)", text)
    key_type = "ecdsa" if algorithm and "ec" in algorithm.group(1).lower() else "rsa"
    bits = re.search(r"Public-Key:\s*\((\d+) bit", text)
    return {
        "exists": True,
        "names": names,
        "serial": serial.group(1).upper() if serial else "",
        "not_after": end.group(1).strip() if end else "",
        "key_type": key_type,
        "key_bits": int(bits.group(1)) if bits else 0,
    }


def parse_systemctl_show(text: str) -> list[dict[str, bool]]:
    """active/enabled per unit from 'systemctl show --property=ActiveState,UnitFileState U1 U2 ...'."""
    states = []
    for block in re.split(r"\n\s*\n", text.strip()):
        values = dict(line.split("=", 1) for line in block.splitlines() if "=" in line)
        states.append(
            {"active": values.get("ActiveState") == "active", "enabled": values.get("UnitFileState") == "enabled"}
        )
    return states


def enabled_repos(texts: list[str]) -> set[str]:
    """Repository ids enabled in the given /etc/yum.repos.d/*.repo texts (enabled=1, the default)."""
    enabled: set[str] = set()
    for text in texts:
        section, state = None, True
        for raw in text.splitlines() + ["[]"]:
            line = raw.strip()
            if line.startswith("[") and line.endswith("]"):
                if section and state:
                    enabled.add(section)
                section, state = line[1:-1].strip() or None, True
            elif section and "=" in line and not line.startswith(("#", ";")):
                key, _sep, value = line.partition("=")
                if key.strip().lower() == "enabled":
                    state = value.strip().lower() in ("1", "yes", "true", "on")
    return enabled
