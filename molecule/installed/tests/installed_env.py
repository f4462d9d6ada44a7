"""What the installed scenario's tests share: where the user's files are, the user's environment
(none of the harness's settings), and running the installed collection as the user does."""

from __future__ import annotations

import glob
import os
import subprocess

from conftest_common import run_playbook

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


def provision(env, playbook="mailops.mailhost.provision", extra_vars=None, check=False):
    return run_playbook(
        playbook,
        extra_vars=extra_vars,
        check=check,
        inventory=os.path.join(WORK, "inventory.yml"),
        env=env,
        cwd=WORK,
        timeout=1200,
    )


def tarball() -> str:
    """The collection as `ansible-galaxy collection build` made it."""
    (path,) = glob.glob(os.path.join(WORK, "mailops-mailhost-*.tar.gz"))
    return path
