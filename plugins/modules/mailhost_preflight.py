#!/usr/bin/python
# Copyright: mailops.mailhost contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: mailhost_preflight
short_description: The pre-flight of the whole mail stack, on the controller, before any host is touched
version_added: 0.2.0
description:
  - Runs on the controller (an action plugin). Without O(learn) it never contacts the host, so it runs the same in
    check mode and from C(playbooks/check.yml) without host access. With O(learn) it first makes the stack's one
    facts call itself (M(mailops.mailhost.mailhost_facts), read-only), so that a host costs one task, not two.
  - Validates the variables of every role that will run against that role's own C(meta/argument_specs.yml) (what
    M(ansible.builtin.validate_argument_spec) does when the role starts), with one short line per error naming the
    variable.
  - Computes the main.cf parameters and master.cf services the postfix role will write (from the role's own
    C(vars/main.yml) and platform data) and applies the security policy to them (no open relay, TLS never off, TLS
    1.2 and newer, submission only over TLS).
  - "Applies the rules Postfix itself reports only when mail flows: C(message_size_limit) above
    C(mailbox_size_limit) or C(virtual_mailbox_limit), C(queue_minfree) below 1.5 times the message size limit, a
    domain in two address classes, recipient and active queue limits, bounce and maximal queue lifetimes, DANE
    without DNSSEC lookups."
  - Checks names (host names and mydestination entries are FQDN-shaped, DKIM domains are domain names and selectors
    RFC 6376 selectors), the banner (no C(Postfix), C($mail_name) or version), DKIM key sizes, password hashes (never
    shown), that SASL has its provider where Postfix looks for it, and that the trusted signing hosts are no wider
    than mynetworks may be.
  - Reports every variable with one of the roles' prefixes that no role knows, with the nearest known name.
  - Fails with one line per problem, each naming the variable, its value and the rule.
author:
  - mailops.mailhost contributors (@mailops)
options:
  roles:
    description: The roles of mailops.mailhost that will run, in order (the mailhost role passes them).
    type: list
    elements: str
    required: true
  allow_unknown:
    description: Accept variables with the roles' prefixes that no role knows.
    type: bool
    default: false
  overrides:
    description: Variables the composing role passes to the roles (role parameters), which win over the inventory.
    type: dict
    default: {}
  platform:
    description:
      - The platform to compute Postfix's parameters for (C(FAMILY_MAJOR), for example V(RedHat_9)) when the host's
        facts are not known (C(playbooks/check.yml) does not contact hosts).
    type: str
  render:
    description: Return the candidate C(main.cf) parameters and C(master.cf) as RV(files).
    type: bool
    default: false
  host:
    description:
      - The result of M(mailops.mailhost.mailhost_facts) for the roles. With it, RV(changes) says what each role would
        change on the host (the mailhost role runs no role at all when nothing would change).
      - Mutually exclusive with O(learn).
    type: dict
  learn:
    description:
      - Make the facts call for O(roles) first (what M(mailops.mailhost.mailhost_facts) with O(roles) does), with these
        requests added to the roles' own (for example C(contents)), and use its result as O(host). It is returned as
        RV(host), and its C(ansible_facts) become the host's facts.
      - A failed facts call fails the task with its message; an unreachable host stays unreachable.
    type: dict
  require_provisioned:
    description:
      - Fail, before any other check, when O(host) shows no C(/etc/postfix/main.cf), that is, the host was never provisioned (the
        drift playbook corrects provisioned hosts only).
    type: bool
    default: false
extends_documentation_fragment:
  - mailops.mailhost.attributes
attributes:
  action:
    description: Runs on the controller as an action plugin; its only call to the host is the read-only facts call of O(learn).
    support: full
  check_mode:
    support: full
    details: Changes nothing anywhere; runs the same in check mode.
  diff_mode:
    support: none
seealso:
  - module: ansible.builtin.validate_argument_spec
"""

EXAMPLES = r"""
- name: Pre-flight of the whole stack (the mailhost role does this first)
  mailops.mailhost.mailhost_preflight:
    roles: [firewall, opendkim, dovecot_sasl, postfix, fail2ban]

- name: Learn what the stack needs from the host, then the pre-flight, in one task
  mailops.mailhost.mailhost_preflight:
    roles: [firewall, opendkim, postfix, fail2ban]
    learn: {}
  register: plan
"""

RETURN = r"""
roles:
  description: The roles checked.
  returned: always
  type: list
  elements: str
problems:
  description: One line per problem, each naming the variable, its value and the rule.
  returned: always
  type: list
  elements: str
changes:
  description: Each role's reasons to call a module (an empty list where nothing would change), with O(host).
  returned: when O(host) is given and the pre-flight passed
  type: dict
  sample: {postfix: ["/etc/postfix/main.cf: parameters differ"], fail2ban: []}
todo:
  description:
    - Everything the run would change, in one list - each role's reasons (RV(changes)), then what the stack's one package
      transaction installs and a hold on service starts that a killed run left. Empty when nothing is to change (the
      mailhost role then runs no role at all, and the drift check reports no drift).
  returned: when the host's facts include the install plan (always with O(learn)) and the pre-flight passed
  type: list
  elements: str
files:
  description: The candidate C(main.cf) (the role's parameters) and C(master.cf), by file name.
  returned: when O(render) is true
  type: dict
host:
  description:
    - The result of the facts call, as M(mailops.mailhost.mailhost_facts) returns it with
      O(mailops.mailhost.mailhost_facts#module:roles) (its C(install) plan included).
  returned: with O(learn)
  type: dict
"""

from ansible.module_utils.basic import AnsibleModule


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "roles": {"type": "list", "elements": "str", "required": True},
            "allow_unknown": {"type": "bool", "default": False},
            "overrides": {"type": "dict", "default": {}},
            "platform": {"type": "str"},
            "render": {"type": "bool", "default": False},
            "host": {"type": "dict"},
            "learn": {"type": "dict"},
            "require_provisioned": {"type": "bool", "default": False},
        },
        mutually_exclusive=[("host", "learn")],
        supports_check_mode=True,
    )
    module.fail_json(msg="mailops.mailhost.mailhost_preflight runs on the controller as an action plugin only")


if __name__ == "__main__":
    main()
