#!/usr/bin/python
# Copyright: mailops.mailhost contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: postfix_check
short_description: Run Postfix's own checks and report the findings
version_added: 0.1.0
description:
  - Validates the live Postfix configuration or a candidate directory and parses what Postfix says
    into findings with a severity (C(warning), C(error), C(fatal), C(panic)) and a message.
  - Read-only checks always run (C(postconf -c DIR -n) and C(-M), referenced map and certificate files,
    master.cf commands, values the installed version cannot parse, and the security policy).
  - C(postfix check) also runs on the live configuration, except in check mode, because it can create
    missing queue directories and fix permissions.
  - Fails on C(error), C(fatal) and C(panic) findings, and on warnings when O(fail_on_warnings) is set.
author:
  - mailops.mailhost contributors (@mailops)
options:
  config_dir:
    description: Configuration directory to check (the live one, or a candidate).
    type: path
    default: /etc/postfix
  fail_on_warnings:
    description: Fail on warnings too.
    type: bool
    default: false
  policy:
    description: Also check the security policy (open relay, TLS floor).
    type: bool
    default: true
  policy_options:
    description: Options of the policy, as in M(mailops.mailhost.postconf).
    type: dict
    default: {}
extends_documentation_fragment:
  - mailops.mailhost.attributes
attributes:
  check_mode:
    support: full
    details: In check mode only the read-only validation runs (no C(postfix check)).
  diff_mode:
    support: none
"""

EXAMPLES = r"""
- name: Check the live Postfix configuration, warnings included
  mailops.mailhost.postfix_check:
    fail_on_warnings: true
  register: __postfix_check_result
"""

RETURN = r"""
findings:
  description: Everything Postfix and the checks reported.
  returned: always
  type: list
  elements: dict
  sample: [{severity: warning, message: "/etc/postfix/main.cf: unused parameter: foo=bar", program: postconf}]
counts:
  description: Number of findings per severity.
  returned: always
  type: dict
  sample: {warning: 1, error: 0, fatal: 0, panic: 0}
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.mailops.mailhost.plugins.module_utils._postfix_validate import postfix_check, validate_dir


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "config_dir": {"type": "path", "default": "/etc/postfix"},
            "fail_on_warnings": {"type": "bool", "default": False},
            "policy": {"type": "bool", "default": True},
            "policy_options": {"type": "dict", "default": {}},
        },
        supports_check_mode=True,
    )
    config_dir = module.params["config_dir"]
    validation = validate_dir(
        module, config_dir, policy=module.params["policy"], policy_options=module.params["policy_options"]
    )
    if not module.check_mode and not validation.blocking(False):
        validation.findings.extend(postfix_check(module, config_dir))
    findings = [f.as_dict() for f in validation.findings]
    counts = {sev: sum(1 for f in findings if f["severity"] == sev) for sev in ("warning", "error", "fatal", "panic")}
    blocking = validation.blocking(module.params["fail_on_warnings"])
    if blocking:
        module.fail_json(
            msg=f"Postfix configuration in {config_dir} has problems: " + "; ".join(f.message for f in blocking),
            findings=findings,
            counts=counts,
        )
    module.exit_json(changed=False, findings=findings, counts=counts)


if __name__ == "__main__":
    main()
