"""The collection as its users install and run it.

The tarball `ansible-galaxy collection build` makes is installed into an empty collections path;
its playbooks run by FQCN (mailops.mailhost.provision) from a directory outside the checkout, with
nothing of the checkout on any Ansible path; the host is reached over ansible.builtin.ssh as the
unprivileged user 'deploy', who becomes root with sudo and a password, with pipelining and
ControlPersist on. Two runs: the first provisions the stack, the second changes nothing.
"""

from __future__ import annotations

import glob
import json
import os
import shutil
import subprocess

import pytest
import yaml
from conftest_common import container_ip, podman_host, run_playbook, wait_for

PROJECT = os.environ["MOLECULE_PROJECT_DIRECTORY"]
EPHEMERAL = os.environ["MOLECULE_EPHEMERAL_DIRECTORY"]
WORK = os.path.join(EPHEMERAL, "installed")
COLLECTIONS = os.path.join(WORK, "collections")
KEY = os.path.join(EPHEMERAL, "id_deploy")
# The deploy user's sudo password (prepare.yml sets its hash); given to Ansible in the
# environment, as a vault or a CI secret would, and never to be seen in any output or log.
BECOME_PASSWORD = "sudo secret"
ANSIBLE_CFG = """\
[defaults]
collections_path = {collections}
interpreter_python = /usr/bin/python3
host_key_checking = True

[ssh_connection]
pipelining = True
ssh_args = -o ControlMaster=auto -o ControlPersist=60s
  -o UserKnownHostsFile={known_hosts} -o StrictHostKeyChecking=accept-new
"""


@pytest.fixture(scope="session")
def ssh1():
    return podman_host("ssh1")


def user_env() -> dict:
    """A user's environment: none of the harness's ANSIBLE_* settings (which point at the checkout)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ANSIBLE_", "MOLECULE_"))}
    env["ANSIBLE_CONFIG"] = os.path.join(WORK, "ansible.cfg")
    env["MAILHOST_BECOME_PASSWORD"] = BECOME_PASSWORD
    return env


def galaxy(env: dict, *args: str) -> str:
    """`ansible-galaxy collection ARGS` as the user runs it; its output."""
    return subprocess.run(
        ["ansible-galaxy", "collection", *args], check=True, capture_output=True, text=True, env=env, cwd=WORK
    ).stdout


@pytest.fixture(scope="module")
def installed(ssh1):
    shutil.rmtree(WORK, ignore_errors=True)
    os.makedirs(WORK)
    with open(os.path.join(WORK, "ansible.cfg"), "w", encoding="utf-8") as handle:
        handle.write(ANSIBLE_CFG.format(collections=COLLECTIONS, known_hosts=os.path.join(WORK, "known_hosts")))
    env = user_env()
    galaxy(env, "build", "--output-path", WORK, PROJECT)
    (tarball,) = glob.glob(os.path.join(WORK, "mailops-mailhost-*.tar.gz"))
    galaxy(env, "install", "-p", COLLECTIONS, tarball)
    inventory = {
        "all": {
            "hosts": {
                "ssh1": {
                    "ansible_host": container_ip("ssh1"),
                    "ansible_user": "deploy",
                    "ansible_ssh_private_key_file": KEY,
                    "ansible_become_password": "{{ lookup('ansible.builtin.env', 'MAILHOST_BECOME_PASSWORD') }}",
                    "postfix_myhostname": "ssh1.example.test",
                    "opendkim_keys": [{"domain": "example.test", "selector": "inst1"}],
                    "postfix_mydestination": ["$myhostname", "localhost", "example.test"],
                }
            }
        }
    }
    with open(os.path.join(WORK, "inventory.yml"), "w", encoding="utf-8") as handle:
        yaml.safe_dump(inventory, handle)
    return env


def provision(env):
    return run_playbook(
        "mailops.mailhost.provision",
        inventory=os.path.join(WORK, "inventory.yml"),
        env=env,
        cwd=WORK,
        timeout=1200,
    )


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
