# Copyright: mailops.mailhost contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The platform data files every role of the collection loads (one rule, one place)."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.mailops.mailhost.plugins.module_utils._platform import vars_files


def platform_vars_files(facts, profile=""):
    """The role vars files for a host, in load order (see module_utils/_platform.py)."""
    if not isinstance(facts, dict):
        raise AnsibleFilterError("platform_vars_files expects the host's ansible_facts")
    try:
        return vars_files(facts, str(profile or ""))
    except ValueError as exc:
        raise AnsibleFilterError(str(exc)) from None


class FilterModule:
    def filters(self):
        return {"platform_vars_files": platform_vars_files}
