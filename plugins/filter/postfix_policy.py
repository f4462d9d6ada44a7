# Copyright: mailops.mailhost contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters that apply the collection's Postfix security policy on the controller."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.mailops.mailhost.plugins.module_utils._policy import violations
from ansible_collections.mailops.mailhost.plugins.module_utils._postconf import format_value, unbracket
from ansible_collections.mailops.mailhost.plugins.module_utils._postfix_derive import MissingInput, derive


def postfix_policy_violations(params, services=None, options=None, names=None):
    """List every way a set of main.cf parameters (and master.cf overrides) breaks the policy."""
    if not isinstance(params, dict):
        raise AnsibleFilterError("postfix_policy_violations expects a dict of main.cf parameters")
    flat = {str(k): format_value(v) for k, v in params.items()}
    flat_services = {
        str(svc): {str(k): format_value(v) for k, v in (overrides or {}).items()}
        for svc, overrides in (services or {}).items()
    }
    return violations(flat, flat_services, options or {}, names or {})


def postfix_derived(inputs):
    """What the postfix role derives from its variables (module_utils/_postfix_derive.py)."""
    if not isinstance(inputs, dict):
        raise AnsibleFilterError("postfix_derived expects a dict of the postfix role's variables")
    try:
        return derive(inputs)
    except MissingInput as exc:
        raise AnsibleFilterError(f"postfix_derived: missing input(s): {exc.args[0]}") from None


def unbracket_networks(networks):
    """Postfix networks ([v6]/len) as plain CIDRs, for programs other than Postfix (fail2ban, opendkim)."""
    if isinstance(networks, str) or not isinstance(networks, (list, tuple)):
        raise AnsibleFilterError("unbracket_networks expects a list of networks")
    return [unbracket(str(n)) for n in networks]


class FilterModule:
    def filters(self):
        return {
            "postfix_derived": postfix_derived,
            "postfix_policy_violations": postfix_policy_violations,
            "unbracket_networks": unbracket_networks,
        }
