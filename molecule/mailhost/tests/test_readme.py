"""The README's "Your own server" example runs as written, on a fresh container.

Every ```yaml block of that section whose first line names a file under inventory/ is written to
that file, the vault file is encrypted with ansible-vault, and the README's provision command
runs against a fresh container (only the connection to it is added, in a second inventory file).
"""

from __future__ import annotations

import os
import re
import subprocess

import pytest
import yaml
from conftest_common import run_playbook

PROJECT = os.environ.get("MOLECULE_PROJECT_DIRECTORY", "")
README = os.path.join(PROJECT, "README.md")


def example_files() -> dict[str, str]:
    with open(README, encoding="utf-8") as handle:
        text = handle.read()
    section = text[text.index("### Your own server") : text.index("## How a change goes live")]
    files = {}
    for block in re.findall(r"```yaml\n(.*?)```", section, re.DOTALL):
        first = block.splitlines()[0]
        match = re.match(r"# (inventory/\S+)", first)
        if match:
            files[match.group(1)] = block
    return files


@pytest.fixture(scope="module")
def example(tmp_path_factory):
    work = tmp_path_factory.mktemp("readme")
    files = example_files()
    assert set(files) == {
        "inventory/hosts.yml",
        "inventory/host_vars/mx1.example.com.yml",
        "inventory/group_vars/all/vault.yml",
    }
    for name, content in files.items():
        (work / name).parent.mkdir(parents=True, exist_ok=True)
        (work / name).write_text(content)
    (work / "password").write_text("readme-example\n")
    vault = work / "inventory/group_vars/all/vault.yml"
    subprocess.run(
        ["ansible-vault", "encrypt", "--vault-password-file", str(work / "password"), str(vault)], check=True
    )
    connection = {
        "all": {
            "hosts": {
                "mx1.example.com": {
                    "ansible_connection": "containers.podman.podman",
                    "ansible_host": "fresh",
                    "ansible_python_interpreter": "/usr/bin/python3",
                }
            }
        }
    }
    (work / "connection.yml").write_text(yaml.safe_dump(connection))
    return work


def readme_run(example, playbook: str, *args: str):
    """The README's command: ansible-playbook -i inventory playbooks/PLAYBOOK (plus the container's connection)."""
    return run_playbook(
        os.path.join(PROJECT, "playbooks", playbook),
        inventory=str(example / "inventory"),
        inventory_extra=str(example / "connection.yml"),
        args=("--vault-password-file", str(example / "password"), *args),
    )


def test_the_readme_example_provisions_a_fresh_host(example, fresh):
    run = readme_run(example, "provision.yml")
    assert run.returncode == 0, run.messages or run.output[-3000:]
    zone = example / "inventory" / "dkim-records" / "example.com.zone"
    assert zone.exists() and "mail2026._domainkey.example.com." in zone.read_text()
    assert fresh.check_output("postconf -h myhostname") == "mx1.example.com"
    greeting = fresh.run("python3 -c \"import smtplib; print(smtplib.SMTP('127.0.0.1', 587).ehlo()[0])\"").stdout
    assert greeting.strip() == "250"


def test_the_readme_example_converges_and_its_drift_check_is_clean(example):
    again = readme_run(example, "provision.yml")
    assert again.returncode == 0 and again.changed("mx1.example.com") == 0, again.diff_text
    drift = readme_run(example, "drift.yml", "--check", "--diff")
    assert drift.returncode == 0 and drift.changed("mx1.example.com") == 0, drift.diff_text
