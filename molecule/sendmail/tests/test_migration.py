"""sendmail to Postfix with playbooks/migrate_sendmail.yml, on Debian's real sendmail.

In order: the plan (its host_vars against the tables, entry by entry; nothing on the host
changes), the cutovers that must not happen (no reviewed plan, a pre-flight refusal), a cutover
that fails half way and brings sendmail back with its queue (which it then delivers), then the
cutover: the messages sendmail held are delivered, the addresses go where they went, the policy
holds with real mail.
"""

from __future__ import annotations

import hashlib
import json
import os

import pytest
import yaml
from conftest_common import container_ip, run_json, run_playbook, wait_for

MIGRATE = os.path.join(os.environ["MOLECULE_PROJECT_DIRECTORY"], "playbooks", "migrate_sendmail.yml")
WORK = os.path.join(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"], "migration")
INVENTORY = os.path.join(WORK, "inventory", "hosts.yml")
VARS_FILE = os.path.join(WORK, "inventory", "host_vars", "smhost", "mailhost_migrated.yml")
REPORT = os.path.join(WORK, "mailhost-migration", "smhost.md")
MX = "mail.example.org"
# The test network has no DNS: the next hops are in /etc/hosts, which Postfix's SMTP client reads
# only when told to (sendmail read it through the name service switch).
NO_DNS = {"postfix_main_cf": {"smtp_host_lookup": "dns, native"}}


def fingerprint(host) -> dict:
    """sendmail as it runs: its configuration, its queue, its process, its package."""
    # Each text file by its digest; the compiled maps by what they hold (a Berkeley DB file rebuilt
    # from the same text is not the same bytes).
    files = host.run(
        "find /etc/mail /etc/aliases -xdev -type f ! -name '*.db' 2>/dev/null | sort | xargs -r sha256sum"
    ).stdout
    maps = host.run(
        "for m in access virtusertable mailertable genericstable;"
        " do echo == $m; makemap -u hash /etc/mail/$m | sort; done;"
        " echo == aliases; praliases 2>/dev/null | sort"
    ).stdout
    return {
        "config": dict(line.split()[::-1] for line in files.splitlines() if line.strip()),
        "maps": hashlib.sha256(maps.encode()).hexdigest(),
        "queue": sorted(host.run("ls /var/spool/mqueue").stdout.split()),
        "sendmail": host.run("systemctl is-active sendmail").stdout.strip(),
        "postfix": host.run("test -e /usr/sbin/postfix && echo installed || echo absent").stdout.strip(),
    }


def migrate(phase: str, **extra):
    return run_playbook(
        MIGRATE, {"mailhost_migration_phase": phase, **extra}, inventory=INVENTORY, limit="smhost", timeout=1200
    )


def queue_held(smhost, tag: str) -> dict[str, str]:
    """Two messages in sendmail's queue: one for local mailboxes (an alias list), one for the
    mailertable's next hop. sendmail queues them (-odq) and runs its queue only every two hours
    here (and when it starts), so they stay queued until sendmail starts again or the cutover.
    Returns the queue id of each ("local", "remote")."""
    ids = {}
    for kind, rcpt in (("local", "staff@example.org"), ("remote", "someone@example.info")):
        before = set(smhost.run("ls /var/spool/mqueue").stdout.split())
        smhost.check_output(
            f"printf 'From: carol@example.org\\nSubject: held-{kind}-{tag}\\n\\nqueued before the migration\\n'"
            f" | sendmail -Am -odq -f carol@example.org {rcpt}"
        )
        new = [f[2:] for f in set(smhost.run("ls /var/spool/mqueue").stdout.split()) - before if f.startswith("qf")]
        assert len(new) == 1, new
        ids[kind] = new[0]
    return ids


@pytest.fixture(scope="module")
def held(smhost, relay2):
    """The messages queued when the migration starts (the plan lists them)."""
    return queue_held(smhost, "1")


@pytest.fixture(scope="module")
def plan(smhost, held):
    os.makedirs(os.path.dirname(INVENTORY), exist_ok=True)
    with open(INVENTORY, "w", encoding="utf-8") as handle:
        yaml.safe_dump(
            {
                "all": {
                    "hosts": {
                        "smhost": {
                            "ansible_connection": "containers.podman.podman",
                            "ansible_python_interpreter": "/usr/bin/python3",
                        }
                    }
                }
            },
            handle,
        )
    before = fingerprint(smhost)
    run = migrate("plan")
    after = fingerprint(smhost)
    assert run.returncode == 0, run.messages or run.output[-3000:]
    with open(VARS_FILE, encoding="utf-8") as handle:
        variables = yaml.safe_load(handle)
    with open(REPORT, encoding="utf-8") as handle:
        report = handle.read()
    return {"before": before, "after": after, "vars": variables, "report": report, "run": run}


# --- the plan ---------------------------------------------------------------------------------


def test_plan_changes_nothing_on_the_host(plan):
    assert plan["before"] == plan["after"]
    assert plan["before"]["sendmail"] == "active" and plan["before"]["postfix"] == "absent"


def test_plan_says_what_each_table_means(plan, trusted):
    v = plan["vars"]
    trusted_ip = container_ip("trusted")
    assert v["mailhost_migrated_from"] == "sendmail"
    assert v["postfix_myhostname"] == MX
    assert v["postfix_mydestination"] == ["$myhostname", "localhost", "example.org", "example.com"]
    assert v["postfix_mynetworks"] == ["127.0.0.0/8", "[::1]/128", trusted_ip + "/32", "192.0.2.0/24"]
    assert v["postfix_relayhost"] == "[smarthost.example.test]"
    assert v["postfix_message_size_limit"] == 26214400
    assert v["postfix_inet_interfaces"] == "all"
    assert v["postfix_aliases"] == {
        "postmaster": "root",
        "abuse": "postmaster",
        "root": "alice",
        "staff": ["alice", "bob"],
        "logger": '"|/usr/bin/logger -t mail-alias"',
    }
    assert v["postfix_virtual_aliases"] == {
        "info@example.com": "alice",
        "sales@example.com": "bob",
        "@example.com": "catchall",
        "@example.info": "@example.net",  # %1@example.net: Postfix keeps the local part
    }
    assert v["postfix_virtual_alias_domains"] == ["example.info"]
    assert v["postfix_transport"] == {"example.net": "smtp:[relay2.example.test]"}
    assert v["postfix_generic"] == {"alice": "alice.smith@example.com"}
    assert v["postfix_sender_access"] == {"spammer.example": "REJECT", "friend@partner.example": "OK"}
    assert v["postfix_recipient_access"] == {"abuse@example.org": "OK"}
    assert v["postfix_client_access"] == {"198.51.100.7": "550 5.7.1 Go away"}


def test_plan_lists_what_does_not_map_and_the_findings(plan):
    report = plan["report"]
    for line in ("confCONNECTION_RATE_THROTTLE", "FEATURE(`greet_pause', `1000')", "GreetPause:localhost"):
        assert line in report, line
    assert "| REVIEW | `postfix_virtual_aliases` | @example.com is a catch-all" in report
    # the two held messages are in the plan, to be handed to Postfix
    assert report.count("carol@example.org") >= 2


# --- cutovers that must not happen ------------------------------------------------------------


def test_cutover_without_the_reviewed_plan_is_refused(smhost, plan):
    before = fingerprint(smhost)
    run = migrate("cutover", mailhost_migration_vars_file="/nonexistent/mailhost_migrated.yml")
    assert run.returncode != 0
    assert "mailhost_migration_vars_file: /nonexistent/mailhost_migrated.yml does not exist" in run.messages
    assert fingerprint(smhost) == before


def test_cutover_refused_by_the_preflight_touches_nothing(smhost, plan):
    before = fingerprint(smhost)
    run = migrate("cutover", postfix_mynetworks=["127.0.0.0/8", "0.0.0.0/0"])
    assert run.returncode != 0
    assert "postfix_mynetworks" in run.messages and "0.0.0.0/0" in run.messages
    assert fingerprint(smhost) == before


def test_failed_cutover_brings_sendmail_back_with_its_queue(smhost, relay2, held, plan):
    """A variable changed after the review sends staff@ elsewhere: the route check fails after Postfix
    was provisioned, and the rollback must leave sendmail as it was."""
    before = fingerprint(smhost)
    changed = dict(plan["vars"]["postfix_virtual_aliases"], **{"staff@example.org": "carol@example.net"})
    run = migrate("cutover", postfix_virtual_aliases=changed)
    assert run.returncode != 0
    assert (
        "staff@example.org: sendmail local:alice, local:bob, Postfix smtp:[relay2.example.test]:carol@example.net"
        in (run.messages)
    ), run.messages
    assert "sendmail runs again, with its configuration and queue as they were" in run.messages
    after = fingerprint(smhost)
    assert after["config"] == before["config"]
    assert after["maps"] == before["maps"]
    assert after["sendmail"] == "active"
    # sendmail runs its queue when it starts: the very messages it held (its queue ids in their
    # Received headers) are delivered by it, none lost
    assert before["queue"] == plan["before"]["queue"]
    local, remote = f"id {held['local']}", f"id {held['remote']}"
    assert wait_for(lambda: local in smhost.run("cat /var/mail/alice").stdout, timeout=60), fingerprint(smhost)
    assert wait_for(lambda: local in smhost.run("cat /var/mail/bob").stdout, timeout=60)
    assert wait_for(lambda: remote in relay2.run("cat /var/mail/sink").stdout, timeout=90)
    assert "Subject: held-remote-1" in relay2.run("cat /var/mail/sink").stdout
    assert wait_for(lambda: fingerprint(smhost)["queue"] == [], timeout=60)
    assert smhost.run("systemctl is-active postfix").stdout.strip() != "active"
    # and sendmail answers on port 25 again
    greeting = smhost.check_output(
        "timeout 20 python3 -c \"import smtplib; print(smtplib.SMTP().connect('127.0.0.1', 25)[1].decode())\""
    )
    assert "ESMTP Sendmail" in greeting, greeting


# --- the cutover ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def cutover(smhost, plan):
    # sendmail delivered the first pair when the failed cutover brought it back: queue a second
    # pair for this cutover to hand to Postfix
    queue_held(smhost, "2")
    run = migrate(
        "cutover",
        opendkim_keys=[{"domain": "example.org", "selector": "mig1"}],
        opendkim_record_dir=WORK + "/dkim",
        **NO_DNS,
    )
    assert run.returncode == 0, run.messages or run.output[-4000:]
    return run


def test_held_messages_are_delivered(smhost, relay2, cutover):
    assert wait_for(lambda: "Subject: held-local-2" in smhost.run("cat /var/mail/alice").stdout, timeout=60)
    assert wait_for(lambda: "Subject: held-local-2" in smhost.run("cat /var/mail/bob").stdout, timeout=60)
    # someone@example.info is forwarded to someone@example.net, whose next hop is relay2
    assert wait_for(lambda: "Subject: held-remote-2" in relay2.run("cat /var/mail/sink").stdout, timeout=90), (
        smhost.run("postqueue -p").stdout
    )
    mailbox = relay2.run("cat /var/mail/sink").stdout
    assert "X-Original-To: someone@example.net" in mailbox or "for <someone@example.net>" in mailbox
    assert smhost.run("ls /var/spool/mqueue 2>/dev/null").stdout.strip() == ""
    assert smhost.run("postqueue -j").stdout.strip() == ""


def test_sendmail_is_gone_and_postfix_answers(smhost, cutover):
    assert smhost.run("test -e /usr/libexec/sendmail/sendmail").rc != 0  # Debian 12's sendmail binary
    assert smhost.run("systemctl is-active postfix").stdout.strip() == "active"
    with open(os.path.join(WORK, "mailhost-migration", "smhost-routes.json"), encoding="utf-8") as handle:
        routes = json.load(handle)
    assert routes["staff@example.org"] == ["local:alice", "local:bob"]
    assert routes["mailhost-migration-check@example.info"] == [
        "smtp:[relay2.example.test]:mailhost-migration-check@example.net"
    ]


def test_addresses_deliver_as_before_with_real_mail(outside, smhost, relay2, cutover):
    sent = run_json(outside, f"smtpcheck send {MX} 25 sender@example.net info@example.com after-info")
    assert sent["ok"], sent
    assert wait_for(lambda: "Subject: after-info" in smhost.run("cat /var/mail/alice").stdout)
    sent = run_json(outside, f"smtpcheck send {MX} 25 sender@example.net nobody-here@example.com after-catchall")
    assert sent["ok"], sent
    assert wait_for(lambda: "Subject: after-catchall" in smhost.run("cat /var/mail/catchall").stdout)
    sent = run_json(outside, f"smtpcheck send {MX} 25 sender@example.net anyone@example.info after-forward")
    assert sent["ok"], sent
    assert wait_for(lambda: "Subject: after-forward" in relay2.run("cat /var/mail/sink").stdout, timeout=60)


def test_rejected_sender_is_still_rejected(outside, cutover):
    sent = run_json(outside, f"smtpcheck send {MX} 25 someone@spammer.example alice@example.org spam-1")
    assert not sent["ok"]
    (code, text) = next(iter(sent["refused"].values())) if "refused" in sent else (sent["code"], sent["text"])
    assert code == 554 and "Sender address rejected: Access denied" in text, sent


def test_relay_battery_refused_from_outside(outside, cutover):
    results = run_json(outside, f"smtpcheck relay {MX} 25 example.org")
    assert len(results) >= 16
    for r in results:
        assert 500 <= r["rcpt_code"] < 600, f"relay not refused with 5xx at RCPT: {r}"


def test_trusted_network_relays_through_the_smart_host(trusted, smarthost, cutover):
    sent = run_json(trusted, f"smtpcheck send {MX} 25 app@example.org someone@gmail.example relayed-1")
    assert sent["ok"], sent
    assert wait_for(lambda: "Subject: relayed-1" in smarthost.run("cat /var/mail/sink").stdout, timeout=60)


def test_outbound_mail_is_signed_and_rewritten(smhost, smarthost, cutover):
    smhost.check_output(
        "printf 'From: bob@example.org\\nTo: someone@gmail.example\\nSubject: signed-1\\n\\nhello\\n'"
        " | sendmail -f bob@example.org someone@gmail.example"
    )
    smhost.check_output(
        "printf 'To: someone@gmail.example\\nSubject: generic-1\\n\\nhello\\n'"
        " | sendmail -f alice someone@gmail.example"
    )
    assert wait_for(lambda: "Subject: generic-1" in smarthost.run("cat /var/mail/sink").stdout, timeout=60)
    assert wait_for(lambda: "Subject: signed-1" in smarthost.run("cat /var/mail/sink").stdout, timeout=60)
    mailbox = smarthost.run("cat /var/mail/sink").stdout
    signed = mailbox[: mailbox.index("Subject: signed-1")].rsplit("\nFrom ", 1)[-1]
    assert "DKIM-Signature:" in signed and "d=example.org" in signed and "s=mig1" in signed, signed
    generic = mailbox[: mailbox.index("Subject: generic-1")].rsplit("\nFrom ", 1)[-1]
    assert "Return-Path: <alice.smith@example.com>" in generic, generic


def test_cutover_again_changes_nothing(smhost, cutover):
    run = migrate(
        "cutover",
        opendkim_keys=[{"domain": "example.org", "selector": "mig1"}],
        opendkim_record_dir=WORK + "/dkim",
        **NO_DNS,
    )
    assert run.returncode == 0, run.messages
    assert run.changed("smhost") == 0
