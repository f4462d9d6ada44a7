"""Helpers shared by the Molecule verifiers (imported by each scenario's conftest.py)."""

from __future__ import annotations

import json
import os
import subprocess
import time

import testinfra


def podman_host(name: str):
    """A testinfra host for a scenario container, reached with podman exec directly."""
    return testinfra.get_host(f"podman://{name}")


def run_json(host, command: str):
    result = host.run(command)
    assert result.rc == 0, f"{command}: rc={result.rc} {result.stderr}"
    return json.loads(result.stdout)


def run_playbook(playbook: str, extra_vars: dict | None = None, check: bool = False, limit: str | None = None):
    """Run a playbook against the scenario inventory; returns the CompletedProcess."""
    argv = ["ansible-playbook", "-i", os.environ["MOLECULE_INVENTORY_FILE"], playbook]
    if extra_vars:
        argv += ["-e", json.dumps(extra_vars)]
    if check:
        argv += ["--check", "--diff"]
    if limit:
        argv += ["--limit", limit]
    env = dict(os.environ, ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0")
    return subprocess.run(argv, capture_output=True, text=True, env=env, timeout=600, check=False)


def recap(output: str, host: str) -> dict:
    """The PLAY RECAP counters of one host."""
    for line in output.splitlines():
        if line.startswith(host + " ") and "ok=" in line:
            return {k: int(v) for k, v in (part.split("=") for part in line.split()[2:])}
    raise AssertionError(f"no recap for {host} in:\n{output[-3000:]}")


def wait_for(predicate, timeout: float = 30, interval: float = 1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    return predicate()
