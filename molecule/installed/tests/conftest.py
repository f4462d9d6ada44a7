"""The installed scenario's fixtures: the host, and the collection built and installed as a user does."""

from __future__ import annotations

import os
import shutil

import pytest
import yaml
from conftest_common import container_ip, podman_host
from installed_env import ANSIBLE_CFG, COLLECTIONS, KEY, PROJECT, WORK, galaxy, tarball, user_env


@pytest.fixture(scope="session")
def ssh1():
    return podman_host("ssh1")


@pytest.fixture(scope="session")
def installed(ssh1):
    shutil.rmtree(WORK, ignore_errors=True)
    os.makedirs(WORK)
    with open(os.path.join(WORK, "ansible.cfg"), "w", encoding="utf-8") as handle:
        handle.write(ANSIBLE_CFG.format(collections=COLLECTIONS, known_hosts=os.path.join(WORK, "known_hosts")))
    env = user_env()
    galaxy(env, "build", "--output-path", WORK, PROJECT)
    galaxy(env, "install", "-p", COLLECTIONS, tarball())
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
