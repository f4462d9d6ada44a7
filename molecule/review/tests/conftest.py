"""The example inventory repository in a temporary directory, pointed at the scenario's containers."""

from __future__ import annotations

import json
import os
import shutil
import subprocess

import pytest
import yaml
from conftest_common import podman_host

PROJECT = os.environ.get("MOLECULE_PROJECT_DIRECTORY", "")
HOSTS = {
    "staging": ("mx1.staging.example.com", "review-staging"),
    "production": ("mx1.example.com", "review-production"),
}


@pytest.fixture(scope="session")
def staging():
    return podman_host("review-staging")


@pytest.fixture(scope="session")
def production():
    return podman_host("review-production")


class Indented(yaml.SafeDumper):
    """Lists indented under their key, as yamllint's default wants (and people write)."""

    def increase_indent(self, flow=False, indentless=False):
        return super().increase_indent(flow, False)


class Repo:
    """The copied example repository and its ci/ commands."""

    def __init__(self, root):
        self.root = root

    def ci(self, step: str, *args: str) -> subprocess.CompletedProcess:
        env = dict(
            os.environ,
            MAILHOST_INVENTORY_OVERLAY=str(self.root / "containers"),
            ANSIBLE_COLLECTIONS_PATH=os.environ["ANSIBLE_COLLECTIONS_PATH"],
        )
        for name in ("ANSIBLE_CONFIG", "ANSIBLE_STDOUT_CALLBACK", "ANSIBLE_CALLBACKS_ENABLED"):
            env.pop(name, None)
        return subprocess.run(
            [str(self.root / "ci" / f"{step}.sh"), *args],
            cwd=self.root,
            capture_output=True,
            text=True,
            env=env,
            timeout=900,
            check=False,  # the tests assert the exit status (a drift check must fail)
        )

    def plan(self, inventory: str) -> tuple[str, dict]:
        base = self.root / "reports" / inventory
        return (base / "mailhost-plan.md").read_text(), json.loads((base / "mailhost-plan.json").read_text())

    def edit(self, inventory: str, **changes) -> None:
        path = self.root / inventory / "group_vars" / "mailhosts" / "main.yml"
        data = yaml.safe_load(path.read_text())
        data.update(changes)
        path.write_text("---\n" + yaml.dump(data, Dumper=Indented, sort_keys=False, width=150))

    def secrets(self, inventory: str) -> dict:
        vault = self.root / inventory / "group_vars" / "mailhosts" / "vault.yml"
        out = subprocess.run(
            ["ansible-vault", "view", "--vault-password-file", str(self.root / ".vault-password"), str(vault)],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        return yaml.safe_load(out)


@pytest.fixture(scope="session")
def repo(tmp_path_factory):
    root = tmp_path_factory.mktemp("inventory-repo") / "repo"
    shutil.copytree(os.path.join(PROJECT, "examples", "inventory"), root)
    (root / ".vault-password").write_text("mailops-example-vault\n")
    (root / "containers").mkdir()
    for inventory, (name, container) in HOSTS.items():
        connection = {
            "ansible_connection": "containers.podman.podman",
            "ansible_host": container,
            "ansible_user": "root",
            "ansible_become": False,
            "ansible_python_interpreter": "/usr/bin/python3",
        }
        (root / "containers" / f"{inventory}.yml").write_text(yaml.safe_dump({"all": {"hosts": {name: connection}}}))
    return Repo(root)
