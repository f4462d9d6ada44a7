"""Fixtures of the stack scenario: the containers, runs of the stack, a fingerprint of the host."""

from __future__ import annotations

import hashlib
import json
import os

import pytest
import yaml
from conftest_common import (
    converge,
    mx1,
    outside,
    outside_not_banned_by_accident,
    podman_host,
    run_playbook,
    trusted,
    wait_for,
)

__all__ = [
    "converge",
    "fingerprint",
    "smtp_answers",
    "fresh",
    "mx1",
    "outside",
    "outside_not_banned_by_accident",
    "queued_message",
    "trusted",
]

SCENARIO = os.environ.get("MOLECULE_SCENARIO_DIRECTORY", "")
CONVERGE = os.path.join(SCENARIO, "converge.yml")
MX = "mx1.example.test"
FINGERPRINTED = "/etc/postfix /etc/aliases /etc/aliases.db /etc/opendkim /etc/opendkim.conf /etc/dovecot /etc/fail2ban"
DAEMONS = {
    "postfix": "/usr/lib/postfix/sbin/master",
    "opendkim": "opendkim",
    "dovecot": "dovecot",
    "fail2ban": "fail2ban-server",
}


@pytest.fixture(scope="session")
def fresh():
    return podman_host("fresh")


def fingerprint(host) -> dict:
    """What a run that was refused before touching the host must leave exactly as it was."""
    files = host.run(
        f"find {FINGERPRINTED} /var/lib/mailops-mailhost -xdev -type f 2>/dev/null | sort | xargs -r sha256sum"
    ).stdout
    pids = {name: host.run(f"pgrep -o -f {pattern}").stdout.strip() for name, pattern in DAEMONS.items()}
    queue = sorted(json.loads(line)["queue_id"] for line in host.run("postqueue -j").stdout.splitlines() if line)
    return {
        "files": hashlib.sha256(files.encode()).hexdigest(),
        "file_count": files.count("\n"),
        "pids": pids,
        "queue": queue,
    }


def case_inventory(tmp_path, cases: dict[str, dict]) -> str:
    """An inventory of one host per case, each an alias of the mx1 container with the case's variables."""
    hosts = {
        name: {
            "ansible_connection": "containers.podman.podman",
            "ansible_host": "mx1",
            "ansible_python_interpreter": "/usr/bin/python3",
            **variables,
        }
        for name, variables in cases.items()
    }
    path = tmp_path / "cases.yml"
    path.write_text(yaml.safe_dump({"all": {"children": {"mailhosts": {"hosts": hosts}}}}))
    return str(path)


@pytest.fixture
def queued_message(mx1, outside):
    """A message held in the queue before a change, released and delivered after it: mail is never lost."""

    def hold(subject: str):
        mx1.run("postsuper -d ALL hold")
        sent = json.loads(
            outside.check_output(f"smtpcheck send {MX} 25 hold-me@example.net alice@example.test {subject}")
        )
        assert sent["ok"], sent
        assert wait_for(lambda: '"queue_name": "hold"' in mx1.run("postqueue -j").stdout), "the message was not held"

        def delivered() -> bool:
            mx1.check_output("postsuper -H ALL")
            mx1.run("postqueue -f")
            return bool(wait_for(lambda: f"Subject: {subject}" in mx1.run("cat /var/mail/alice").stdout, timeout=30))

        return delivered

    return hold


def smtp_answers(client, port: int) -> bool:
    """Whether mx1's listener serves the client: 25 and 587 greet in plain text, 465 completes TLS first."""
    if port == 465:
        return client.run(f"openssl s_client -brief -connect {MX}:465 </dev/null").rc == 0
    return client.run(f"smtpcheck talk {MX} {port}").rc == 0


def stack_run(extra_vars=None, check=False, inventory_extra=None, limit="mx1", playbook=CONVERGE, args=()):
    """The stack's converge with extra variables, read through the json callback."""
    return run_playbook(playbook, extra_vars, check=check, limit=limit, inventory_extra=inventory_extra, args=args)
