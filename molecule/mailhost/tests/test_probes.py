"""Faults that only show when mail flows: caught by the probes, rolled back, queued mail kept.

Each fault passes every static check the run makes of it (no pre-flight in the first two: the
postfix role on its own), goes live, and is caught by a probe: the delivery probe (the message
cannot be delivered), the listener probe (587 dies at the first connection), the DKIM probe
(opendkim cannot load the new key). The change is rolled back, the run fails with the probe's
evidence, and a message queued before the change is delivered after it.
"""

from __future__ import annotations

import json
import os
import subprocess

from conftest import SCENARIO, smtp_answers, stack_run
from conftest_common import wait_for

MX = "mx1.example.test"
POSTFIX_ONLY = os.path.join(SCENARIO, "postfix-only.yml")


def snapshot(mx1) -> str:
    return mx1.check_output(
        "cat /etc/postfix/main.cf /etc/postfix/master.cf /etc/opendkim/KeyTable /etc/opendkim/SigningTable | sha256sum"
    )


def assert_restored_and_serving(mx1, outside, before):
    assert snapshot(mx1) == before, "the previous configuration was not restored"
    assert mx1.run("postfix status").rc == 0
    for port in (25, 587, 465):
        assert smtp_answers(outside, port), f"port {port} does not answer after the rollback"
    assert not mx1.file("/var/lib/mailops-mailhost/postfix-rollback/pending.json").exists
    probes = [json.loads(line) for line in mx1.run("postqueue -j").stdout.splitlines() if "mailhost-probe" in line]
    assert probes == [], f"probe messages left in the queue: {probes}"


def test_the_stack_is_in_place(mx1, converge):
    run = converge()
    assert run.returncode == 0, run.messages


def test_message_size_above_the_mailbox_limit_is_caught_by_the_delivery_probe(mx1, outside, queued_message):
    before = snapshot(mx1)
    delivered = queued_message("held-size")
    run = stack_run({"postfix_message_size_limit": 52428800}, playbook=POSTFIX_ONLY)
    assert run.returncode != 0, "the fault went live unnoticed"
    assert "the probe message" in run.messages, run.messages
    assert "mailbox_size_limit is smaller than message_size_limit" in run.messages, run.messages
    assert "The previous configuration was restored and is live" in run.messages
    assert_restored_and_serving(mx1, outside, before)
    assert delivered(), "the message queued before the change was not delivered"


def test_a_submission_listener_without_sasl_mechanisms_is_caught_by_the_listener_probe(mx1, outside, queued_message):
    before = snapshot(mx1)
    delivered = queued_message("held-sasl")
    run = stack_run({"postfix_sasl_path": "private/no-such-socket"}, playbook=POSTFIX_ONLY)
    assert run.returncode != 0
    assert "submission/inet (127.0.0.1:587)" in run.messages, run.messages
    assert "no SASL authentication mechanisms" in run.messages, run.messages
    assert_restored_and_serving(mx1, outside, before)
    assert delivered()


def test_a_dkim_key_opendkim_cannot_load_is_caught_and_the_previous_keys_and_tables_return(
    mx1, outside, queued_message
):
    # A real key, but pasted with a line before its PEM header: openssl reads it, opendkim does not.
    pem = subprocess.run(
        ["openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    keys = [
        {"domain": "example.test", "selector": "stack1"},
        {"domain": "example.test", "selector": "stack2", "private_key": "# from the vault\n" + pem},
    ]
    before = snapshot(mx1)
    delivered = queued_message("held-dkim")
    run = stack_run({"opendkim_keys": keys, "opendkim_signing": {"example.test": "stack2"}})
    assert run.returncode != 0
    assert "451 4.7.0 resource unavailable" in run.messages, run.messages
    assert "The previous configuration was restored and is live" in run.messages
    assert_restored_and_serving(mx1, outside, before)
    assert not mx1.file("/etc/opendkim/keys/example.test/stack2.private").exists
    assert "stack1._domainkey.example.test" in mx1.check_output("cat /etc/opendkim/SigningTable")
    assert delivered()
    # ... and the host signs again with the previous key.
    body = "From: <alice@example.test>\\nSubject: signed-again\\n\\nbody\\n"
    mx1.check_output(f"printf '{body}' | sendmail -f alice@example.test alice@example.test")
    assert wait_for(lambda: "Subject: signed-again" in mx1.run("cat /var/mail/alice").stdout)
    assert (
        "s=stack1" in mx1.run("cat /var/mail/alice").stdout.split("Subject: signed-again")[0].rsplit("\nFrom ", 1)[-1]
    )


def test_a_probe_passes_on_the_good_configuration_and_leaves_nothing(mx1, converge):
    run = converge({"mailhost_probe_timeout": 20, "postfix_message_size_limit": 20971520})
    assert run.returncode == 0, run.messages
    assert mx1.check_output("postconf -h message_size_limit") == "20971520"
    log = mx1.run("journalctl -q --no-pager --since -2min -t postfix/local").stdout
    assert "to=<mailhost-probe@mx1.example.test>" in log and "delivered to file: /dev/null" in log, log
    assert converge().returncode == 0
