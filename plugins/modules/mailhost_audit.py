#!/usr/bin/python
# Copyright: mailops.mailhost contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: mailhost_audit
short_description: The host's part of the daily mail checklist - queue, journal, certificate, bans, DKIM keys, a probe message
version_added: 0.1.0
description:
  - Read-only checks of a running mail host, in one call. Each is returned as a check of the audit report.
  - V(queue) the Postfix queue holds at most O(max_queue) messages (counted on disk).
  - V(journal) Postfix logged at most O(max_journal_errors) error, fatal or panic lines in the last O(hours) hours.
  - V(journal_warnings) and at most O(max_journal_warnings) warning or reject lines (a warning, not a failure).
  - V(certificate) the certificate Postfix serves over STARTTLS on O(smtp_port) is valid for at least
    O(min_certificate_days) days.
  - V(certificate_trust) the served chain verifies against the host's own trust store for O(hostname); a self-signed
    certificate or a name mismatch is a warning with the reason.
  - V(bans) fail2ban has at most O(max_bans) addresses banned over all jails (a warning when fail2ban is absent).
  - Returns the public key of every selector in opendkim's KeyTable (read from the private key on the host), so that
    DNS is compared with the key the host signs with.
  - With O(probe_domain), sends a probe message from C(mailhost-probe@probe_domain) through the host's own Postfix on
    loopback (signed by opendkim as any of the host's mail), holds it, returns it exactly as it would leave the host
    and removes it from the queue. M(mailops.mailhost.mail_dns) then judges it as a receiving MTA would. Held probes
    older than a minute, left by a killed run, are removed first. Not sent in check mode.
  - Fails when any check fails (or the probe cannot be sent), and returns every result either way.
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
  max_journal_warnings:
    description: Most Postfix warning and reject lines in that time before V(journal_warnings) warns.
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
    description: Port of the local SMTP listener that offers STARTTLS (and takes the probe message).
    type: int
    default: 25
  hostname:
    description: The name the served certificate must be valid for. Default the host's C(myhostname).
    type: str
  opendkim_config:
    description: opendkim's configuration file, where the KeyTable and SigningTable are named.
    type: path
    default: /etc/opendkim.conf
  dkim_selector:
    description: Return only this selector's key (default every key of the KeyTable).
    type: str
  probe_domain:
    description: Send the probe message from C(mailhost-probe@) this domain (the mail domain). Default no probe.
    type: str
  probe_recipient:
    description: Local address of the probe (an alias to C(/dev/null)). Default C(mailhost-probe@) C(myhostname).
    type: str
  probe_timeout:
    description: Seconds to wait for the probe message to be queued and readable.
    type: float
    default: 30
extends_documentation_fragment:
  - mailops.mailhost.attributes
  - mailops.mailhost.attributes.read_only
notes:
  - The probe message is held by the postfix role's rule for C(mailhost-probe@) senders on loopback, so it never
    leaves the host; it is removed as soon as it has been read.
"""

EXAMPLES = r"""
- name: Run the host's part of the daily checklist and send a probe message
  mailops.mailhost.mailhost_audit:
    max_queue: 20
    min_certificate_days: 30
    probe_domain: example.com
  register: __mailhost_audit
"""

RETURN = r"""
results:
  description: One entry per check (check, subject, status pass/warn/fail/skipped, message, evidence, records).
  returned: always
  type: list
  elements: dict
hostname:
  description: The host name the certificate was checked for (and the probe's HELO name).
  returned: always
  type: str
certificate_days:
  description: Days of validity left on the certificate Postfix serves.
  returned: when the certificate could be read
  type: int
dkim_keys:
  description: Every key of opendkim's KeyTable with its public key (the base64 C(p=) value) and whether it signs.
  returned: always
  type: list
  elements: dict
  sample: [{domain: example.com, selector: mail2026, public_key: MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA..., signing: true}]
probe:
  description:
    - The probe message - sender, recipient, helo, queue_id and message (its text as it would leave the host) - or
      why there is none (problem, or skipped).
  returned: when O(probe_domain) is set
  type: dict
"""

import base64
import time
from datetime import datetime, timezone

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.mailops.mailhost.plugins.module_utils._audit import (
    bans_verdict,
    certificate_verdict,
    classify_journal,
    item,
    jail_names,
    journal_verdict,
    journal_warnings_verdict,
    opendkim_table_paths,
    parse_enddate,
    parse_fail2ban_status,
    parse_key_table,
    parse_s_client,
    queue_verdict,
    signing_key_names,
    trust_verdict,
)
from ansible_collections.mailops.mailhost.plugins.module_utils._host import run, run_with_timeout, stream_lines
from ansible_collections.mailops.mailhost.plugins.module_utils._postfix_runtime import (
    journal_entries,
    probe_address,
    queue_size,
)
from ansible_collections.mailops.mailhost.plugins.module_utils._probe import (
    PROBE_LOCAL_PART,
    new_token,
    probe_message,
    stale_probes,
    submit,
)


def postconf(module: AnsibleModule, *names: str) -> dict[str, str]:
    tool = module.get_bin_path("postconf", required=True)
    _rc, out, _err = run(module, [tool, "-x", *names])
    values = {}
    for line in out.splitlines():
        name, sep, value = line.partition(" = ")
        if sep:
            values[name.strip()] = value.strip()
    return values


def check_journal(module: AnsibleModule) -> list[dict]:
    """Postfix's error and warning lines of the last hours, read from the journal as a stream (mail facility)."""
    p = module.params
    journalctl = module.get_bin_path("journalctl", required=True)
    since = int(time.time() - p["hours"] * 3600)
    argv = [journalctl, "--no-pager", "-q", "-o", "json", "--since", f"@{since}", "SYSLOG_FACILITY=2"]
    errors, warnings = [], []

    def consume(line: str) -> None:
        found_errors, found_warnings = classify_journal(journal_entries(line))
        errors.extend(found_errors[: 1000 - len(errors)])
        warnings.extend(found_warnings[: 1000 - len(warnings)])

    rc, err = stream_lines(argv, consume)
    if rc != 0:
        failed = item("journal", "fail", f"cannot read the journal: {err.strip()}", {"hours": p["hours"]})
        return [failed, item("journal_warnings", "skipped", "the journal could not be read")]
    return [
        journal_verdict(errors, p["max_journal_errors"], p["hours"]),
        journal_warnings_verdict(warnings, p["max_journal_warnings"], p["hours"]),
    ]


def describe_certificate(module: AnsibleModule, pem: str) -> tuple[datetime, str, str]:
    openssl = module.get_bin_path("openssl", required=True)
    rc, out, err = run(module, [openssl, "x509", "-noout", "-enddate", "-subject", "-issuer"], data=pem)
    if rc != 0:
        raise ValueError(err.strip() or "openssl cannot read it")
    fields = {}
    for line in out.splitlines():
        name, _sep, value = line.partition("=")
        fields[name.strip()] = value.strip()
    return parse_enddate(out), fields.get("subject", ""), fields.get("issuer", "")


def check_certificate(module: AnsibleModule, address: str, hostname: str) -> list[dict]:
    """Days left on the served certificate, and whether its chain verifies for the host name.

    One handshake by openssl s_client: it reads the whole served chain and verifies it against the
    host's trust store without aborting, so an untrusted certificate costs no TLS alert (which
    smtpd would log as a warning) and intermediates are judged as a sending MTA judges them.
    """
    p = module.params
    where = f"[{address}]:{p['smtp_port']}" if ":" in address else f"{address}:{p['smtp_port']}"
    openssl = module.get_bin_path("openssl", required=True)
    argv = [openssl, "s_client", "-starttls", "smtp", "-connect", where, "-name", hostname, "-servername", hostname]
    argv += ["-verify_hostname", hostname, "-showcerts", "-crlf"]
    try:
        rc, out, err = run_with_timeout(argv, b"QUIT\n", 30)
        chain, code, words = parse_s_client(out)
        if not chain:
            said = err.strip().splitlines()
            raise ValueError(said[-1] if said else f"openssl s_client exited {rc}")
        not_after, subject, issuer = describe_certificate(module, chain[0])
    except (OSError, ValueError) as exc:
        message = f"cannot read the certificate served on {where}: {exc}"
        return [item("certificate", "fail", message, {"address": where}), _unread()]
    days = certificate_verdict(not_after, datetime.now(timezone.utc), p["min_certificate_days"], subject)
    problem = None if code == 0 else (words or "OpenSSL gave no verify result")
    return [days, trust_verdict(problem, hostname, subject, issuer)]


def _unread() -> dict:
    return item("certificate_trust", "skipped", "the served certificate could not be read")


def check_bans(module: AnsibleModule) -> dict:
    client = module.get_bin_path("fail2ban-client")
    counts = None
    if client:
        rc, out, _err = run(module, [client, "status"])
        if rc == 0:
            per_jail = {jail: run(module, [client, "status", jail])[1] for jail in jail_names(out)}
            counts = parse_fail2ban_status(out, per_jail)
    return bans_verdict(counts, module.params["max_bans"])


def read_text(path: str) -> str | None:
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read()
    except OSError:
        return None


def dkim_keys(module: AnsibleModule) -> tuple[list[dict], list[str]]:
    """The KeyTable's keys with their public keys, and what could not be read."""
    p = module.params
    conf = read_text(p["opendkim_config"])
    if conf is None:
        return [], []
    paths = opendkim_table_paths(conf)
    table = read_text(paths.get("KeyTable", "")) if paths.get("KeyTable") else None
    if table is None:
        return [], [f"{p['opendkim_config']} names no readable KeyTable"]
    signing = signing_key_names(read_text(paths.get("SigningTable", "")) or "") if paths.get("SigningTable") else set()
    openssl = module.get_bin_path("openssl", required=True)
    keys, problems = [], []
    for entry in parse_key_table(table):
        if p["dkim_selector"] and entry["selector"] != p["dkim_selector"]:
            continue
        rc, out, err = run(module, [openssl, "pkey", "-in", entry["path"], "-pubout", "-outform", "DER"], encoding=None)
        if rc != 0:
            words = err.decode("utf-8", "replace").strip().splitlines()[:1]
            problems.append(
                f"{entry['selector']}._domainkey.{entry['domain']}: cannot read the key {entry['path']}: "
                + (words[0] if words else f"openssl exited {rc}")
            )
            continue
        keys.append(
            {
                "domain": entry["domain"],
                "selector": entry["selector"],
                "public_key": base64.b64encode(out).decode("ascii"),
                "signing": entry["name"] in signing,
            }
        )
    return keys, problems


def queue_tool(module: AnsibleModule, name: str, *args: str) -> tuple[int, str, str]:
    return run(module, [module.get_bin_path(name, required=True), *args])


def send_probe(module: AnsibleModule, address: str, helo: str) -> dict:
    """Submit the probe on loopback, read it back from the hold queue, remove it."""
    p = module.params
    sender = f"{PROBE_LOCAL_PART}@{p['probe_domain']}"
    recipient = p["probe_recipient"] or f"{PROBE_LOCAL_PART}@{helo}"
    probe = {"sender": sender, "recipient": recipient, "helo": helo}
    rc, out, _err = queue_tool(module, "postqueue", "-j")
    for queue_id in stale_probes(out, time.time()) if rc == 0 else []:
        queue_tool(module, "postsuper", "-d", queue_id, "hold")
    token = new_token()
    queue_id, refusal = submit(
        address, p["smtp_port"], helo, sender, recipient, probe_message(sender, recipient, token, helo)
    )
    if refusal:
        return dict(probe, problem=f"the probe message from {sender} was not accepted: {refusal}")
    probe["queue_id"] = queue_id
    try:
        deadline = time.monotonic() + p["probe_timeout"]
        while True:
            rc, text, _err = queue_tool(module, "postcat", "-bh", "-q", queue_id)
            if rc == 0 and text.strip():
                return dict(probe, message=text)
            if time.monotonic() >= deadline:
                return dict(
                    probe,
                    problem=f"the probe message {queue_id} could not be read from the queue within "
                    f"{p['probe_timeout']:g} s (is the postfix role's HOLD rule for {PROBE_LOCAL_PART}@ in place?)",
                )
            time.sleep(0.2)
    finally:
        queue_tool(module, "postsuper", "-d", queue_id)


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "max_queue": {"type": "int", "default": 50},
            "hours": {"type": "int", "default": 24},
            "max_journal_errors": {"type": "int", "default": 0},
            "max_journal_warnings": {"type": "int", "default": 0},
            "min_certificate_days": {"type": "int", "default": 30},
            "max_bans": {"type": "int", "default": 100},
            "smtp_port": {"type": "int", "default": 25},
            "hostname": {"type": "str"},
            "opendkim_config": {"type": "path", "default": "/etc/opendkim.conf"},
            "dkim_selector": {"type": "str"},
            "probe_domain": {"type": "str"},
            "probe_recipient": {"type": "str"},
            "probe_timeout": {"type": "float", "default": 30.0},
        },
        supports_check_mode=True,
    )
    p = module.params
    for name in ("max_queue", "hours", "max_journal_errors", "max_journal_warnings", "max_bans"):
        if p[name] < 0:
            module.fail_json(msg=f"{name}: {p[name]} must be 0 or more")
    if not 1 <= p["smtp_port"] <= 65535:
        module.fail_json(msg=f"smtp_port: {p['smtp_port']} must be a port number, 1 to 65535")
    if p["probe_timeout"] <= 0:
        module.fail_json(msg=f"probe_timeout: {p['probe_timeout']} must be more than 0 seconds")
    if p["probe_domain"] is not None and ("@" in p["probe_domain"] or not p["probe_domain"].strip(". ")):
        module.fail_json(msg=f"probe_domain: {p['probe_domain']!r} must be a domain name (no local part)")

    params = postconf(module, "queue_directory", "inet_interfaces", "myhostname")
    hostname = p["hostname"] or params.get("myhostname", "localhost")
    address = probe_address(params.get("inet_interfaces", "all"))
    results = [queue_verdict(queue_size(params.get("queue_directory", "/var/spool/postfix")), p["max_queue"])]
    results += check_journal(module)
    results += check_certificate(module, address, hostname)
    results.append(check_bans(module))
    keys, key_problems = dkim_keys(module)
    if key_problems:
        results.append(item("dkim_keys", "fail", "; ".join(key_problems)))
    outcome = {"changed": False, "results": results, "hostname": hostname, "dkim_keys": keys}
    days = next((r["evidence"].get("days") for r in results if r["check"] == "certificate"), None)
    if days is not None:
        outcome["certificate_days"] = days
    if p["probe_domain"]:
        if module.check_mode:
            outcome["probe"] = {"skipped": "check mode: no probe message is sent"}
        else:
            outcome["probe"] = send_probe(module, address, hostname)
    failed = [r for r in results if r["status"] == "fail"]
    problem = outcome.get("probe", {}).get("problem")
    if failed or problem:
        reasons = [f"{r['check']}: {r['message']}" for r in failed] + ([f"probe: {problem}"] if problem else [])
        module.fail_json(msg="mail host checklist failed: " + "; ".join(reasons), **outcome)
    module.exit_json(**outcome)


if __name__ == "__main__":
    main()
