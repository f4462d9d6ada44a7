#!/usr/bin/python
# Copyright: mailops.mailhost contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: mail_dns
short_description: Assert a mail domain's DNS (MX, A/AAAA, PTR, SPF, DKIM, DMARC, MTA-STS, TLS-RPT) and say what to publish
version_added: 0.1.0
description:
  - Queries real DNS and checks that the records a mail host needs are published and correct.
  - V(mx) at least one MX, the host name among the targets, no target a CNAME or an IP address.
  - V(a) and V(aaaa) the host name resolves to exactly the given addresses.
  - V(ptr) each address has a PTR naming the host, which resolves back to the address (forward-confirmed).
  - V(spf) exactly one valid C(v=spf1) record that authorises the addresses (evaluated through include, redirect,
    a, mx, ip4, ip6 and exists), at most O(spf_max_lookups) DNS-querying terms counting nested ones, at most two
    void lookups, ending in C(-all) or C(~all) (C(?all) or no C(all) warns, C(+all) fails).
  - V(dkim) the selector's record parses (v=DKIM1, k=rsa, p=), strings are joined, the key has at least 2048 bits
    and equals the expected local key.
  - V(dmarc) exactly one record starting with C(v=DMARC1), valid tags, a policy at or beyond O(dmarc_policy) (the
    staged rollout none, quarantine, reject); C(p=none) warns.
  - V(mta_sts) and V(tls_rpt) a C(v=STSv1; id=) and a C(v=TLSRPTv1; rua=) record.
  - With O(dkim_keys) (the keys the host holds, as M(mailops.mailhost.mailhost_audit) returns them), V(dkim) checks
    the record of every key against that key, one result per selector.
  - "With O(probe_message) (a message as it leaves the host, for example the audit's probe message), the message is
    judged as a receiving MTA would for mail from each of O(addresses): V(dkim_message) a DKIM signature of
    O(domain) verifies against the key published in DNS (dkimpy); V(spf_message) SPF passes for the address and
    the envelope sender O(probe_sender) (pyspf); V(dmarc_message) DMARC passes with alignment under the
    published policy (RFC 7489 policy discovery; the organizational domain from the public suffix list)."
  - V(dmarc_stage) the guarded rollout none, quarantine, reject - the stage published against O(dmarc_policy), the
    record of the next stage, and a refusal (fail) to recommend or accept quarantine or reject while the message
    does not pass DMARC aligned or, with O(dmarc_reports), while the aggregate reports of the last
    O(dmarc_report_days) days show less than O(dmarc_aligned_share) per cent of aligned mail. Records never rely on
    C(pct=) (valid under RFC 7489 and RFC 9989). With V(dmarc_stage), V(dmarc) judges the record alone.
  - Each check returns pass, warn or fail with what was expected and found and a plain message; the task fails when
    any check fails (or warns, with O(strict)) and still returns every result, plus RV(records_to_publish), the exact
    zone-file lines that make the failing checks pass.
  - SERVFAIL, REFUSED, a timeout and NXDOMAIN are told apart in the messages and are never a pass. Records to publish
    are proposed only when DNS answered that a record is missing or wrong, never on a timeout, SERVFAIL or REFUSED.
  - Read-only. Needs dnspython where it runs, so it is usually delegated to localhost (the controller).
author:
  - mailops.mailhost contributors (@mailops)
requirements:
  - dnspython >= 2.0 on the host that runs the module
  - for the message checks, dkimpy, pyspf and publicsuffix2 there too
options:
  domain:
    description: The mail domain.
    type: str
    required: true
  hostname:
    description: The MTA's host name (the MX target, the PTR name). Required for the mx, a, aaaa and ptr checks.
    type: str
  addresses:
    description: The host's public IPv4 and IPv6 addresses. Required for the a, aaaa, ptr and spf checks.
    type: list
    elements: str
    default: []
  nameservers:
    description: DNS servers to ask (IP addresses). Default is the system resolver.
    type: list
    elements: str
    default: []
  port:
    description: DNS port.
    type: int
    default: 53
  timeout:
    description: Seconds to wait for one answer.
    type: float
    default: 3.0
  retries:
    description: Further tries after a timeout.
    type: int
    default: 1
  checks:
    description: The checks to run.
    type: list
    elements: str
    choices: [mx, a, aaaa, ptr, spf, dkim, dmarc, mta_sts, tls_rpt, spf_message, dkim_message, dmarc_message, dmarc_stage]
    default: [mx, a, ptr, spf, dkim, dmarc]
  dkim_selector:
    description: DKIM selector. Required for the dkim check.
    type: str
  dkim_public_key:
    description: Expected DKIM public key, the base64 C(p=) value. Mutually exclusive with O(dkim_public_key_file).
    type: str
  dkim_public_key_file:
    description:
      - File holding the expected key, as written by C(opendkim-genkey) or the opendkim role (the C(.txt) record) or
        a PEM public key. Read on the host that runs the module.
    type: path
  dmarc_policy:
    description: The DMARC stage expected at least.
    type: str
    choices: [none, quarantine, reject]
    default: none
  mta_sts_id:
    description: The C(id=) to put in a proposed MTA-STS record (default a time stamp).
    type: str
  spf_max_lookups:
    description: Most DNS-querying SPF terms allowed, nested ones included (RFC 7208 says 10).
    type: int
    default: 10
  strict:
    description: Fail on warnings too.
    type: bool
    default: false
  dkim_keys:
    description: The host's DKIM keys; the V(dkim) check compares the record of each with it.
    type: list
    elements: dict
    suboptions:
      domain:
        description: Signing domain.
        type: str
        required: true
      selector:
        description: Selector.
        type: str
        required: true
      public_key:
        description: The base64 C(p=) value.
        type: str
        required: true
      signing:
        description: Whether the key signs (informative).
        type: bool
        default: false
  probe_message:
    description: A message as it leaves the host (headers and body), for the message checks.
    type: str
  probe_sender:
    description: The message's envelope sender. Default C(mailhost-probe@) O(domain).
    type: str
  dmarc_reports:
    description: Directory of DMARC aggregate (rua) reports (.xml, .xml.gz, .zip), read by V(dmarc_stage).
    type: path
  dmarc_report_days:
    description: How many days of aggregate reports count.
    type: int
    default: 14
  dmarc_aligned_share:
    description: Per cent of the domain's mail in those reports that must pass aligned before the next stage.
    type: float
    default: 98.0
extends_documentation_fragment:
  - mailops.mailhost.attributes
  - mailops.mailhost.attributes.read_only
"""

EXAMPLES = r"""
- name: Assert the mail DNS of example.com, DMARC at least quarantine
  mailops.mailhost.mail_dns:
    domain: example.com
    hostname: mx1.example.com
    addresses: [192.0.2.10, "2001:db8::10"]
    checks: [mx, a, aaaa, ptr, spf, dkim, dmarc]
    dkim_selector: mail2026
    dkim_public_key_file: /etc/opendkim/keys/example.com/mail2026.txt
    dmarc_policy: quarantine
  delegate_to: localhost
  register: __mail_dns

- name: Show what to publish
  ansible.builtin.debug:
    var: __mail_dns.records_to_publish
  when: __mail_dns.records_to_publish | length > 0
"""

RETURN = r"""
results:
  description: One entry per check, in the order asked.
  returned: always
  type: list
  elements: dict
  contains:
    check:
      description: The check name.
      type: str
    subject:
      description: What the result is about when a check has several (a DKIM selector, a public address), or empty.
      type: str
    status:
      description: pass, warn, fail, or skipped (V(dmarc_stage) without a message).
      type: str
    expected:
      description: What the check wanted.
      type: raw
    found:
      description: What DNS answered.
      type: raw
    message:
      description: Plain-language verdict.
      type: str
    records_to_publish:
      description: Zone-file lines that make this check pass.
      type: list
      elements: str
records_to_publish:
  description: The zone-file lines to add or replace so that every failing check passes.
  returned: always
  type: list
  elements: str
  sample: ['_dmarc.example.com. 3600 IN TXT "v=DMARC1; p=quarantine; rua=mailto:postmaster@example.com"']
failed_checks:
  description: The checks that failed (and warned, with O(strict)).
  returned: always
  type: list
  elements: str
"""

import ipaddress
import os
import time

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.mailops.mailhost.plugins.module_utils._dkim import dkim_key_from_text
from ansible_collections.mailops.mailhost.plugins.module_utils._dmarc_reports import summarize
from ansible_collections.mailops.mailhost.plugins.module_utils._dns_resolver import (
    HAS_DNSPYTHON,
    DnsLookup,
)
from ansible_collections.mailops.mailhost.plugins.module_utils._mail_dns import (
    ALL_CHECKS,
    DEFAULT_CHECKS,
    first_queries,
    run_checks,
)
from ansible_collections.mailops.mailhost.plugins.module_utils._message_auth import HAS_AUTH_LIBS, use_resolver

ARGUMENT_SPEC = {
    "domain": {"type": "str", "required": True},
    "hostname": {"type": "str"},
    "addresses": {"type": "list", "elements": "str", "default": []},
    "nameservers": {"type": "list", "elements": "str", "default": []},
    "port": {"type": "int", "default": 53},
    "timeout": {"type": "float", "default": 3.0},
    "retries": {"type": "int", "default": 1},
    "checks": {"type": "list", "elements": "str", "choices": list(ALL_CHECKS), "default": list(DEFAULT_CHECKS)},
    "dkim_selector": {"type": "str"},
    "dkim_public_key": {"type": "str", "no_log": False},
    "dkim_public_key_file": {"type": "path"},
    "dmarc_policy": {"type": "str", "choices": ["none", "quarantine", "reject"], "default": "none"},
    "mta_sts_id": {"type": "str"},
    "spf_max_lookups": {"type": "int", "default": 10},
    "strict": {"type": "bool", "default": False},
    "dkim_keys": {
        "type": "list",
        "elements": "dict",
        "no_log": False,
        "options": {
            "domain": {"type": "str", "required": True},
            "selector": {"type": "str", "required": True},
            "public_key": {"type": "str", "required": True, "no_log": False},
            "signing": {"type": "bool", "default": False},
        },
    },
    "probe_message": {"type": "str"},
    "probe_sender": {"type": "str"},
    "dmarc_reports": {"type": "path"},
    "dmarc_report_days": {"type": "int", "default": 14},
    "dmarc_aligned_share": {"type": "float", "default": 98.0},
}
MESSAGE_CHECKS = ("spf_message", "dkim_message", "dmarc_message")


def check_arguments(module: AnsibleModule) -> str | None:
    """Refuse what the checks asked for cannot work with; the DKIM public key to compare with."""
    p = module.params
    checks = p["checks"]
    if {"mx", "a", "aaaa", "ptr"} & set(checks) and not p["hostname"]:
        module.fail_json(msg="hostname is required for the mx, a, aaaa and ptr checks")
    if {"a", "aaaa", "ptr", "spf"} & set(checks) and not p["addresses"]:
        module.fail_json(
            msg="addresses is required for the a, aaaa, ptr and spf checks: give the host's public addresses"
        )
    if "dkim" in checks and not p["dkim_selector"] and p["dkim_keys"] is None:
        module.fail_json(msg="dkim_selector (or dkim_keys) is required for the dkim check")
    wanted = [c for c in (*MESSAGE_CHECKS, "dmarc_stage") if c in checks]
    if wanted and not p["addresses"]:
        module.fail_json(msg=f"addresses is required for the {', '.join(wanted)} checks: the host's public addresses")
    if [c for c in MESSAGE_CHECKS if c in checks] and p["probe_message"] is None:
        module.fail_json(msg="probe_message is required for the spf_message, dkim_message and dmarc_message checks")
    if p["probe_message"] is not None and not HAS_AUTH_LIBS:
        module.fail_json(msg=missing_required_lib("dkimpy, pyspf and publicsuffix2") + " (for the message checks)")
    if not 1 <= p["dmarc_report_days"] <= 366:
        module.fail_json(msg=f"dmarc_report_days: {p['dmarc_report_days']} must be 1 to 366")
    if not 0 < p["dmarc_aligned_share"] <= 100:
        module.fail_json(msg=f"dmarc_aligned_share: {p['dmarc_aligned_share']} must be more than 0 and at most 100")
    if p["dmarc_reports"] and not os.path.isdir(p["dmarc_reports"]):
        module.fail_json(msg=f"dmarc_reports: {p['dmarc_reports']} is not a directory")
    sender = p["probe_sender"]
    if sender is not None and (sender.count("@") != 1 or not sender.split("@")[1]):
        module.fail_json(msg=f"probe_sender: {sender!r} must be an address local@domain")
    for index, key in enumerate(p["dkim_keys"] or []):
        if not key["public_key"].strip() or not key["selector"].strip() or not key["domain"].strip():
            module.fail_json(msg=f"dkim_keys[{index}]: domain, selector and public_key must not be empty")
    for address in p["addresses"]:
        try:
            ipaddress.ip_address(address)
        except ValueError:
            module.fail_json(msg=f"addresses: '{address}' is not an IPv4 or IPv6 address")
    if not p["dkim_public_key_file"]:
        return p["dkim_public_key"]
    try:
        with open(p["dkim_public_key_file"], encoding="utf-8") as handle:
            return dkim_key_from_text(handle.read())
    except (OSError, ValueError) as exc:
        module.fail_json(
            msg=f"dkim_public_key_file: cannot read a DKIM public key from {p['dkim_public_key_file']}: {exc}"
        )


def check_dns(module: AnsibleModule, expected_key: str | None) -> dict:
    """Resolve every first query at once, then run the checks."""
    p = module.params
    lookup = DnsLookup(p["nameservers"], p["port"], p["timeout"], p["retries"])
    lookup.prefetch(
        first_queries(p["domain"], p["hostname"] or "", p["addresses"], p["checks"], p["dkim_selector"], p["dkim_keys"])
    )
    reports = None
    if p["dmarc_reports"] and "dmarc_stage" in p["checks"]:
        reports = summarize(p["dmarc_reports"], p["domain"], p["dmarc_report_days"], time.time())
    if p["probe_message"] is not None:
        use_resolver(lookup.resolver)
    return run_checks(
        lookup,
        p["domain"],
        p["hostname"] or "",
        p["addresses"],
        checks=p["checks"],
        dkim_selector=p["dkim_selector"],
        dkim_public_key=expected_key,
        dmarc_policy=p["dmarc_policy"],
        spf_max_lookups=p["spf_max_lookups"],
        mta_sts_id=p["mta_sts_id"] or time.strftime("%Y%m%d%H%M%S", time.gmtime()),
        strict=p["strict"],
        dkim_keys=p["dkim_keys"],
        message=p["probe_message"].encode("utf-8", "surrogateescape") if p["probe_message"] is not None else None,
        message_sender=p["probe_sender"],
        dmarc_reports=reports,
        dmarc_required_share=p["dmarc_aligned_share"],
        timeout=p["timeout"] * (p["retries"] + 1),
    )


def main() -> None:
    module = AnsibleModule(
        argument_spec=ARGUMENT_SPEC,
        mutually_exclusive=[("dkim_public_key", "dkim_public_key_file")],
        supports_check_mode=True,
    )
    if not HAS_DNSPYTHON:
        module.fail_json(msg=missing_required_lib("dnspython") + " Or run the task with delegate_to: localhost.")
    outcome = check_dns(module, check_arguments(module))
    if outcome.pop("failed"):
        failing = [r for r in outcome["results"] if r["check"] in outcome["failed_checks"]]
        summary = "; ".join(f"{r['check']}: {r['message']}" for r in failing)
        module.fail_json(msg=f"mail DNS of {module.params['domain']} is not right: {summary}", changed=False, **outcome)
    module.exit_json(changed=False, **outcome)


if __name__ == "__main__":
    main()
