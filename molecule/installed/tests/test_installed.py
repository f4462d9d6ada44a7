"""The collection as its users install and run it.

The tarball `ansible-galaxy collection build` makes is installed into an empty collections path;
its playbooks run by FQCN (mailops.mailhost.provision) from a directory outside the checkout, with
nothing of the checkout on any Ansible path; the host is reached over ansible.builtin.ssh as the
unprivileged user 'deploy', who becomes root with sudo and a password, with pipelining and
ControlPersist on. Two runs: the first provisions the stack, the second changes nothing.
"""

from __future__ import annotations

import json
import os
import subprocess

import pytest
from conftest_common import container_ip, wait_for
from installed_env import BECOME_PASSWORD, COLLECTIONS, KEY, WORK, galaxy, provision


@pytest.fixture(scope="module")
def first_run(ssh1, installed):
    since = ssh1.check_output("date '+%Y-%m-%d %H:%M:%S'")
    run = provision(installed)
    assert run.returncode == 0, run.messages or run.output[-4000:]
    return run, since


@pytest.fixture(scope="module")
def second_run(ssh1, installed, first_run):
    since = ssh1.check_output("date '+%Y-%m-%d %H:%M:%S'")
    run = provision(installed)
    assert run.returncode == 0, run.messages or run.output[-4000:]
    return run, since


def test_the_installed_tarball_is_what_ansible_finds(installed):
    listing = json.loads(galaxy(installed, "list", "mailops.mailhost", "--format", "json"))
    paths = [path for path, found in listing.items() if "mailops.mailhost" in found]
    assert paths == [os.path.join(COLLECTIONS, "ansible_collections")], paths
    assert os.path.isfile(os.path.join(COLLECTIONS, "ansible_collections", "mailops", "mailhost", "MANIFEST.json"))


def test_root_cannot_log_in_over_ssh(ssh1, installed):
    proc = subprocess.run(
        [
            "ssh",
            "-o",
            "BatchMode=yes",
            "-o",
            "StrictHostKeyChecking=accept-new",
            "-o",
            f"UserKnownHostsFile={WORK}/known_hosts",
            "-i",
            KEY,
            f"root@{container_ip('ssh1')}",
            "true",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 255 and "Permission denied" in proc.stderr, proc.stderr


def test_provisioned_as_deploy_through_sudo(ssh1, first_run):
    _run, since = first_run
    assert ssh1.run("systemctl is-active postfix").stdout.strip() == "active"
    assert ssh1.run("systemctl is-active opendkim").stdout.strip() == "active"
    sudo = ssh1.check_output(f"journalctl -q --since '{since}' _COMM=sudo -o cat")
    assert "deploy : " in sudo and "USER=root" in sudo, sudo[-2000:]
    # pipelining: every module reached Python on its standard input, no module file was copied
    # to the host and run from a temporary directory
    assert "AnsiballZ_" not in sudo, [line for line in sudo.splitlines() if "AnsiballZ_" in line][:3]


def test_the_connection_is_kept_open(ssh1, first_run):
    """ControlPersist: the whole first run logged in a handful of times, not once per task."""
    run, since = first_run
    logins = ssh1.check_output(
        f"journalctl -q --since '{since}' -t sshd -o cat | grep -c 'Accepted publickey for deploy'"
    )
    tasks = len(run.results)
    assert int(logins) <= 3 < tasks, (logins, tasks)


def test_second_run_changes_nothing(second_run):
    run, _since = second_run
    assert run.changed("ssh1") == 0, run.results


def test_mail_is_delivered(ssh1, second_run):
    out = ssh1.run(
        "swaks --server 127.0.0.1 --from someone@example.net --to deploy@ssh1.example.test"
        " --header 'Subject: installed-collection' --timeout 30"
    )
    assert out.rc == 0, out.stdout[-2000:]
    assert wait_for(lambda: "Subject: installed-collection" in ssh1.run("cat /var/mail/deploy").stdout, timeout=60)


def test_the_sudo_password_is_never_shown(ssh1, first_run, second_run):
    for run, _since in (first_run, second_run):
        assert BECOME_PASSWORD not in run.output
    assert ssh1.run(f"journalctl -q -o cat | grep -c -F '{BECOME_PASSWORD}'").stdout.strip() == "0"
