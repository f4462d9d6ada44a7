#!/usr/bin/python
# Copyright: mailops.mailhost contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: mailhost_audit
short_description: The daily mail host checklist - queue, journal errors, served certificate, bans
version_added: 0.1.0
description:
  - Read-only checks of a running mail host, in one call.
  - V(queue) the Postfix queue holds at most O(max_queue) messages (counted on disk).
  - V(journal) Postfix logged at most O(max_journal_errors) error, fatal or panic lines in the last O(hours) hours.
  - V(certificate) the certificate Postfix actually serves (read over STARTTLS on O(smtp_port)) is valid for at
    least O(min_certificate_days) days.
  - V(bans) fail2ban has at most O(max_bans) addresses banned over all jails (a warning when fail2ban is absent).
  - Fails when any check fails, and returns every result. DNS (PTR, SPF, DKIM, DMARC) is checked by
    M(mailops.mailhost.mail_dns).
author:
  - mailops.mailhost contributors (@mailops)
options:
  max_queue:
    description: Most messages allowed in the queue.
    type: int
    default: 50
  hours:
    description: How far back to read the journal.
    type: int
    default: 24
  max_journal_errors:
    description: Most Postfix error lines allowed in that time.
    type: int
    default: 0
  min_certificate_days:
    description: Fewest days of validity left on the served certificate.
    type: int
    default: 30
  max_bans:
    description: Most addresses banned by fail2ban, all jails together.
    type: int
    default: 100
  smtp_port:
    description: Port of the local SMTP listener that offers STARTTLS.
    type: int
    default: 25
extends_documentation_fragment:
  - mailops.mailhost.attributes
  - mailops.mailhost.attributes.read_only
"""

EXAMPLES = r"""
- name: Run the daily checklist
  mailops.mailhost.mailhost_audit:
    max_queue: 20
    min_certificate_days: 30
  register: __mailhost_audit
"""

RETURN = r"""
results:
  description: One entry per check with status (pass, warn, fail), value, limit and message.
  returned: always
  type: list
  elements: dict
certificate_days:
  description: Days of validity left on the certificate Postfix serves.
  returned: when the certificate could be read
  type: int
"""

import smtplib
import ssl
import time
from datetime import datetime, timezone

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.mailops.mailhost.plugins.module_utils._audit import (
    bans_verdict,
    certificate_verdict,
    item,
    jail_names,
    journal_verdict,
    parse_enddate,
    parse_fail2ban_status,
    queue_verdict,
)
from ansible_collections.mailops.mailhost.plugins.module_utils._host import run
from ansible_collections.mailops.mailhost.plugins.module_utils._postfix_runtime import (
    journal_errors,
    probe_address,
    queue_size,
)


def served_certificate(module: AnsibleModule, address: str, port: int) -> bytes:
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE  # we read the certificate; trust is not the question here
    with smtplib.SMTP(address, port, timeout=15, local_hostname="audit.invalid") as conn:
        conn.starttls(context=context)
        return conn.sock.getpeercert(binary_form=True)


def check_queue(module: AnsibleModule) -> tuple[dict, str]:
    """The queue verdict, and the inet_interfaces value the certificate check needs."""
    postconf = module.get_bin_path("postconf", required=True)
    _rc, out, _err = run(module, [postconf, "-x", "-h", "queue_directory", "inet_interfaces"])
    queue_dir, interfaces = (out.splitlines() + ["/var/spool/postfix", "all"])[:2]
    return queue_verdict(queue_size(queue_dir), module.params["max_queue"]), interfaces


def check_journal(module: AnsibleModule) -> dict:
    p = module.params
    since_us = int((time.time() - p["hours"] * 3600) * 1_000_000)
    journalctl = module.get_bin_path("journalctl", required=True)
    rc, out, err = run(
        module, [journalctl, "--no-pager", "-q", "-o", "json", "--since", f"@{since_us // 1_000_000}", "-p", "err"]
    )
    if rc != 0:
        return item("journal", "fail", None, p["max_journal_errors"], f"cannot read the journal: {err.strip()}")
    return journal_verdict(journal_errors(out, since_us), p["max_journal_errors"], p["hours"])


def check_certificate(module: AnsibleModule, interfaces: str) -> dict:
    """Days left on the certificate Postfix serves over STARTTLS."""
    p = module.params
    address = probe_address(interfaces)
    try:
        der = served_certificate(module, address, p["smtp_port"])
        openssl = module.get_bin_path("openssl", required=True)
        rc, out, err = run(
            module, [openssl, "x509", "-inform", "DER", "-noout", "-enddate", "-subject"], data=der, binary_data=True
        )
        if rc != 0:
            raise ValueError(err.strip())
        subject = next((line.split("=", 1)[1].strip() for line in out.splitlines() if line.startswith("subject")), "")
        return certificate_verdict(
            parse_enddate(out.splitlines()[0]), datetime.now(timezone.utc), p["min_certificate_days"], subject
        )
    except (OSError, smtplib.SMTPException, ValueError) as exc:
        message = f"cannot read the certificate served on {address}:{p['smtp_port']}: {exc}"
        return item("certificate", "fail", None, p["min_certificate_days"], message)


def check_bans(module: AnsibleModule) -> dict:
    client = module.get_bin_path("fail2ban-client")
    counts = None
    if client:
        rc, out, _err = run(module, [client, "status"])
        if rc == 0:
            per_jail = {jail: run(module, [client, "status", jail])[1] for jail in jail_names(out)}
            counts = parse_fail2ban_status(out, per_jail)
    return bans_verdict(counts, module.params["max_bans"])


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "max_queue": {"type": "int", "default": 50},
            "hours": {"type": "int", "default": 24},
            "max_journal_errors": {"type": "int", "default": 0},
            "min_certificate_days": {"type": "int", "default": 30},
            "max_bans": {"type": "int", "default": 100},
            "smtp_port": {"type": "int", "default": 25},
        },
        supports_check_mode=True,
    )
    queue, interfaces = check_queue(module)
    certificate = check_certificate(module, interfaces)
    results = [queue, check_journal(module), certificate, check_bans(module)]
    outcome = {"changed": False, "results": results}
    if certificate["value"] is not None:  # None: the certificate could not be read
        outcome["certificate_days"] = certificate["value"]
    failed = [r for r in results if r["status"] == "fail"]
    if failed:
        module.fail_json(
            msg="mail host checklist failed: " + "; ".join(f"{r['check']}: {r['message']}" for r in failed), **outcome
        )
    module.exit_json(**outcome)


if __name__ == "__main__":
    main()
