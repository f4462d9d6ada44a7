#!/usr/bin/python
# Copyright: mailops.mailhost contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: sendmail_facts
short_description: Read a sendmail host's configuration and say it as this collection's variables
version_added: 0.3.0
description:
  - Read-only. Reads sendmail's configuration - C(sendmail.mc) when present, else the compiled C(sendmail.cf) - and the
    text sources of its tables (C(access), C(virtusertable), C(mailertable), C(genericstable)), class files
    (C(local-host-names), C(relay-domains), C(generics-domains)) and C(/etc/aliases). A table whose text source is
    missing is read from its compiled C(.db) with C(makemap -u).
  - Returns RV(variables), the postfix role's variables that do what the configuration does (ready to be written as
    host_vars), RV(unmapped), every line that was not turned into a variable with its file, line and reason, and
    RV(findings), what the pre-flight would refuse or a reviewer must decide (a RELAY network wider than the
    mynetworks limit, relaying by sender address, a catch-all address).
  - Also returns the addresses whose delivery the cutover records and compares (RV(addresses_to_verify)), the messages
    in sendmail's queues (RV(queue)), and a Markdown report of all of it (RV(report)).
  - "The equivalences: local-host-names (Cw) to postfix_mydestination; access C(Connect:) RELAY to postfix_mynetworks,
    C(To:) RELAY and relay-domains to relay_domains (postfix_main_cf); C(From:)/C(To:)/C(Connect:) REJECT, DISCARD,
    OK, ERROR, SKIP to postfix_sender_access, postfix_recipient_access, postfix_client_access; aliases to
    postfix_aliases; virtusertable (with C(@domain) catch-alls and C(%1@domain)) to postfix_virtual_aliases;
    mailertable to postfix_transport; genericstable to postfix_generic; MASQUERADE_AS to postfix_myorigin and
    postfix_masquerade_domains; SMART_HOST to postfix_relayhost; DAEMON_OPTIONS to postfix_inet_interfaces and
    submission; confMAX_MESSAGE_SIZE to postfix_message_size_limit; confPRIVACY_FLAGS to the role's hardening."
author:
  - mailops.mailhost contributors (@mailops)
options:
  config_dir:
    description: sendmail's configuration directory.
    type: path
    default: /etc/mail
  aliases:
    description: The aliases file.
    type: path
    default: /etc/aliases
  hostname:
    description: The host's name (C($j)); default the host's fully qualified name.
    type: str
  mynetworks_prefix_limit_ipv4:
    description: The pre-flight's widest IPv4 network in mynetworks (the postfix role's postfix_mynetworks_prefix_limit_ipv4).
    type: int
    default: 16
  mynetworks_prefix_limit_ipv6:
    description: The same for IPv6.
    type: int
    default: 48
  queue_dirs:
    description: sendmail's queue directories (the MTA's and the submission program's).
    type: list
    elements: path
    default: [/var/spool/mqueue, /var/spool/mqueue-client, /var/spool/clientmqueue]
extends_documentation_fragment:
  - mailops.mailhost.attributes
  - mailops.mailhost.attributes.read_only
"""

EXAMPLES = r"""
- name: Read the sendmail configuration
  mailops.mailhost.sendmail_facts:
  register: __sendmail
"""

RETURN = r"""
installed:
  description:
    - Whether sendmail is installed - its own binary (Debian's C(/usr/lib/sm.bin/sendmail), EL's
      C(/usr/sbin/sendmail.sendmail)) and its configuration (sendmail.mc or sendmail.cf). After a cutover the
      configuration stays and this is false.
  returned: always
  type: bool
hostname:
  description: The host name the plan was made for.
  returned: always
  type: str
variables:
  description: The role variables that do what sendmail's configuration does.
  returned: always
  type: dict
  sample: {postfix_mydestination: ["$myhostname", localhost, example.org], postfix_relayhost: "[smarthost.example.net]"}
unmapped:
  description: Every line not turned into a variable (file, line, text, reason).
  returned: always
  type: list
  elements: dict
findings:
  description: What the pre-flight would refuse (severity refused) or a reviewer must decide (review, info).
  returned: always
  type: list
  elements: dict
mapped:
  description: Each line that was turned into a variable, and the variable.
  returned: always
  type: list
  elements: dict
addresses_to_verify:
  description: The addresses whose delivery is recorded before the cutover and compared after it.
  returned: always
  type: list
  elements: str
queue:
  description: The messages in sendmail's queues (id, directory, sender, recipients).
  returned: always
  type: list
  elements: dict
report:
  description: The plan as Markdown, for the pull request.
  returned: always
  type: str
"""

import os
import socket

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.mailops.mailhost.plugins.module_utils._host import run
from ansible_collections.mailops.mailhost.plugins.module_utils._sendmail import (
    Source,
    addresses_to_verify,
    migrate,
    report_markdown,
)
from ansible_collections.mailops.mailhost.plugins.module_utils._sendmail_queue import parse_qf, queue_ids

SENDMAIL_BINARIES = ("/usr/lib/sm.bin/sendmail", "/usr/sbin/sendmail.sendmail", "/usr/libexec/sendmail/sendmail")
TABLES = ("access", "virtusertable", "mailertable", "genericstable")
CLASS_FILES = ("local-host-names", "relay-domains", "generics-domains")


def read(path: str) -> str | None:
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            return handle.read()
    except OSError:
        return None


def read_table(module: AnsibleModule, path: str) -> tuple[Source, str]:
    """The table's text source, or its .db dumped by makemap -u."""
    text = read(path)
    if text is not None or not os.path.exists(path + ".db"):
        return Source(path, text), ""
    makemap = module.get_bin_path("makemap")
    if not makemap:
        return Source(path, None), f"{path}.db exists without its text source and makemap is not installed"
    rc, out, err = run(module, [makemap, "-u", "hash", path])
    if rc != 0:
        return Source(path, None), f"makemap -u hash {path}: {err.strip() or rc}"
    return Source(path + ".db (makemap -u)", out), ""


def queued(directories: list[str]) -> list[dict]:
    found = []
    for directory in directories:
        for queue_id in queue_ids(directory):
            try:
                with open(os.path.join(directory, "qf" + queue_id), "rb") as handle:
                    parsed = parse_qf(handle.read())
            except OSError as exc:
                found.append({"id": queue_id, "dir": directory, "problem": str(exc)})
                continue
            found.append(
                {
                    "id": queue_id,
                    "dir": directory,
                    "sender": parsed["sender"],
                    "recipients": parsed["recipients"],
                    "problems": parsed["problems"],
                }
            )
    return found


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "config_dir": {"type": "path", "default": "/etc/mail"},
            "aliases": {"type": "path", "default": "/etc/aliases"},
            "hostname": {"type": "str"},
            "mynetworks_prefix_limit_ipv4": {"type": "int", "default": 16},
            "mynetworks_prefix_limit_ipv6": {"type": "int", "default": 48},
            "queue_dirs": {
                "type": "list",
                "elements": "path",
                "default": ["/var/spool/mqueue", "/var/spool/mqueue-client", "/var/spool/clientmqueue"],
            },
        },
        supports_check_mode=True,
    )
    p = module.params
    if not 0 <= p["mynetworks_prefix_limit_ipv4"] <= 32:
        module.fail_json(msg=f"mynetworks_prefix_limit_ipv4: {p['mynetworks_prefix_limit_ipv4']} must be 0 to 32")
    if not 0 <= p["mynetworks_prefix_limit_ipv6"] <= 128:
        module.fail_json(msg=f"mynetworks_prefix_limit_ipv6: {p['mynetworks_prefix_limit_ipv6']} must be 0 to 128")
    directory = p["config_dir"]
    hostname = (p["hostname"] or socket.getfqdn()).lower()
    sources = {
        "mc": Source(os.path.join(directory, "sendmail.mc"), read(os.path.join(directory, "sendmail.mc"))),
        "cf": Source(os.path.join(directory, "sendmail.cf"), read(os.path.join(directory, "sendmail.cf"))),
        "aliases": Source(p["aliases"], read(p["aliases"])),
    }
    problems = []
    for name in CLASS_FILES:
        path = os.path.join(directory, name)
        sources[name] = Source(path, read(path))
    for name in TABLES:
        sources[name], problem = read_table(module, os.path.join(directory, name))
        if problem:
            problems.append(problem)
    # The configuration stays when the packages are removed (a finished cutover): sendmail is
    # installed only while its own binary is there.
    binary = next((b for b in SENDMAIL_BINARIES if os.path.exists(b)), None)
    installed = bool(binary) and (sources["mc"].text is not None or sources["cf"].text is not None)
    plan = migrate(sources, hostname, {4: p["mynetworks_prefix_limit_ipv4"], 6: p["mynetworks_prefix_limit_ipv6"]})
    for problem in problems:
        plan.skip(problem.split(":", 1)[0], 0, "", problem)
    queue = queued(p["queue_dirs"])
    outcome = {
        "changed": False,
        "installed": installed,
        "hostname": hostname,
        "variables": plan.variables,
        "unmapped": plan.unmapped,
        "findings": plan.findings,
        "mapped": plan.mapped,
        "addresses_to_verify": addresses_to_verify(plan, []),
        "queue": queue,
    }
    outcome["report"] = report_markdown(hostname, outcome)
    module.exit_json(**outcome)


if __name__ == "__main__":
    main()
