#!/usr/bin/python
# Copyright: mailops.mailhost contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: mail_routes
short_description: Where each address goes under the host's MTA - sendmail or Postfix - said the same way for both
version_added: 0.3.0
description:
  - Read-only; no mail is sent. For each address returns its final destinations, each one of C(local:USER),
    C(prog:COMMAND), C(file:PATH), C(smtp:NEXTHOP:ADDRESS) or C(error).
  - V(sendmail) asks sendmail itself (C(sendmail -bv), one address at a time).
  - V(postfix) follows Postfix's own tables in the order Postfix applies them - virtual_alias_maps (C(postmap -q)),
    for local domains alias_maps (C(postalias -q)), whose results go through virtual aliasing again, then
    transport_maps, relayhost or the domain itself - since Postfix's C(sendmail -bv) mails its report rather than
    printing it.
  - The sendmail migration records the routes under sendmail before the cutover and compares them under Postfix.
author:
  - mailops.mailhost contributors (@mailops)
options:
  mta:
    description: Which MTA answers.
    type: str
    choices: [sendmail, postfix]
    required: true
  addresses:
    description: The addresses to resolve.
    type: list
    elements: str
    required: true
extends_documentation_fragment:
  - mailops.mailhost.attributes
  - mailops.mailhost.attributes.read_only
"""

EXAMPLES = r"""
- name: Record where sendmail delivers each known address
  mailops.mailhost.mail_routes:
    mta: sendmail
    addresses: [postmaster@example.org, info@example.com]
  register: __routes_before
"""

RETURN = r"""
routes:
  description: Each address with its sorted final destinations.
  returned: always
  type: dict
  sample: {"staff@example.org": ["local:alice", "local:bob"], "x@example.info": ["smtp:[relay2.example.net]:x@example.net"]}
"""

import pwd

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.mailops.mailhost.plugins.module_utils._host import run
from ansible_collections.mailops.mailhost.plugins.module_utils._routes import (
    PostfixConfig,
    parse_sendmail_bv,
    postfix_destinations,
    sendmail_destination,
    words,
)


def user_exists(name: str) -> bool:
    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


def sendmail_routes(module: AnsibleModule, addresses: list[str]) -> dict[str, list[str]]:
    sendmail = module.get_bin_path("sendmail", required=True, opt_dirs=["/usr/sbin", "/usr/lib"])
    routes = {}
    for address in addresses:
        _rc, out, err = run(module, [sendmail, "-bv", "--", address])
        entries = parse_sendmail_bv(out + "\n" + err)
        if not entries:
            module.fail_json(msg=f"addresses: sendmail -bv {address} gave no answer: {(out + err).strip()[:300]}")
        routes[address] = sorted({sendmail_destination(e) for e in entries})
    return routes


def postfix_routes(module: AnsibleModule, addresses: list[str]) -> dict[str, list[str]]:
    postconf = module.get_bin_path("postconf", required=True)
    names = [
        "mydestination",
        "myorigin",
        "virtual_alias_domains",
        "relayhost",
        "recipient_delimiter",
        "virtual_alias_maps",
        "alias_maps",
        "transport_maps",
    ]
    rc, out, err = run(module, [postconf, "-x", *names])
    if rc != 0:
        module.fail_json(msg=f"postconf: {err.strip()}")
    values = {}
    for line in out.splitlines():
        name, _sep, value = line.partition(" = ")
        values[name.strip()] = value.strip()
    config = PostfixConfig(
        mydestination=words(values.get("mydestination", "")),
        myorigin=values.get("myorigin", ""),
        virtual_alias_domains=[d for d in words(values.get("virtual_alias_domains", "")) if ":" not in d],
        relayhost=values.get("relayhost", ""),
        recipient_delimiter=values.get("recipient_delimiter", ""),
    )
    postmap = module.get_bin_path("postmap", required=True)
    postalias = module.get_bin_path("postalias", required=True)
    maps = {
        "virtual": (postmap, words(values.get("virtual_alias_maps", ""))),
        "alias": (postalias, words(values.get("alias_maps", ""))),
        "transport": (postmap, words(values.get("transport_maps", ""))),
    }
    cache: dict[tuple[str, str], str | None] = {}

    def query(which: str, key: str) -> str | None:
        if (which, key) not in cache:
            tool, tables = maps[which]
            cache[(which, key)] = None
            for table in tables:
                if table.startswith("nis:") or table.startswith("$"):
                    continue
                code, found, _err = run(module, [tool, "-q", key, table])
                if code == 0:
                    cache[(which, key)] = found.strip()
                    break
        return cache[(which, key)]

    return {a: postfix_destinations(a, config, query, user_exists) for a in addresses}


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "mta": {"type": "str", "choices": ["sendmail", "postfix"], "required": True},
            "addresses": {"type": "list", "elements": "str", "required": True},
        },
        supports_check_mode=True,
    )
    addresses = module.params["addresses"]
    bad = [a for a in addresses if not a or any(c.isspace() for c in a) or a.startswith("-")]
    if bad:
        module.fail_json(msg=f"addresses: {bad[0]!r} is not an address (no spaces, not starting with -)")
    if module.params["mta"] == "sendmail":
        routes = sendmail_routes(module, addresses)
    else:
        routes = postfix_routes(module, addresses)
    module.exit_json(changed=False, routes=routes)


if __name__ == "__main__":
    main()
