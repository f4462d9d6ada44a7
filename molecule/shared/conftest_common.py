"""Helpers shared by the Molecule verifiers (imported by each scenario's conftest.py)."""

from __future__ import annotations

import json
import os
import subprocess
import time
from dataclasses import dataclass

import pytest
import testinfra

SHARED = os.path.dirname(os.path.abspath(__file__))


def podman_host(name: str):
    """A testinfra host for a scenario container, reached with podman exec directly."""
    return testinfra.get_host(f"podman://{name}")


def container_ip(name: str) -> str:
    """The address of a scenario container on its podman network."""
    return subprocess.run([f"{SHARED}/container-ip", name], capture_output=True, text=True, check=True).stdout.strip()


# Fixtures for the usual scenario containers; a scenario's conftest.py imports the ones it has.
@pytest.fixture(scope="session")
def mx1():
    return podman_host("mx1")


@pytest.fixture(scope="session")
def outside():
    return podman_host("outside")


@pytest.fixture(scope="session")
def trusted():
    return podman_host("trusted")


@pytest.fixture(scope="session")
def converge():
    """Run the scenario's converge.yml again against mx1: converge(extra_vars, check=False) -> PlaybookRun."""
    playbook = os.path.join(os.environ["MOLECULE_SCENARIO_DIRECTORY"], "converge.yml")

    def _run(extra_vars=None, check=False):
        return run_playbook(playbook, extra_vars, check=check, limit="mx1")

    return _run


JAILS = ("postfix", "postfix-sasl")


@pytest.fixture(autouse=True)
def outside_not_banned_by_accident(mx1):
    """The relay battery and the refused TLS versions are abuse enough for the postfix jail, and
    fail2ban reads the journal a moment after Postfix writes it, so a ban can land after any
    unban: the outside client stays on the jails' ignore list (ban tests take it off first).
    A scenario without fail2ban is unaffected (the commands fail quietly)."""
    address = container_ip("outside")
    for jail in JAILS:
        mx1.run(f"fail2ban-client set {jail} addignoreip {address}")
    mx1.run("fail2ban-client unban --all")


def run_json(host, command: str):
    result = host.run(command)
    assert result.rc == 0, f"{command}: rc={result.rc} {result.stderr}"
    return json.loads(result.stdout)


@dataclass
class PlaybookRun:
    """A playbook run read through the json callback: no terminal formatting to parse."""

    returncode: int
    stats: dict
    failures: list[str]
    diffs: list[dict]
    output: str
    results: list = None  # (task name, host, result) of every task that ran

    def failed_task(self, host: str) -> tuple[str, dict] | None:
        """The first task that failed on a host, with its result."""
        for name, where, result in self.results or []:
            if where == host and (result.get("failed") or result.get("unreachable")):
                return name, result
        return None

    @property
    def messages(self) -> str:
        return "\n".join(self.failures)

    def changed(self, host: str) -> int:
        return self.stats[host]["changed"]

    @property
    def diff_text(self) -> str:
        """Every diff as '-' (before) and '+' (after) lines."""
        lines = []
        for diff in self.diffs:
            lines += ["-" + line for line in str(diff.get("before", "")).splitlines()]
            lines += ["+" + line for line in str(diff.get("after", "")).splitlines()]
        return "\n".join(lines)


def run_playbook(
    playbook: str,
    extra_vars: dict | None = None,
    check: bool = False,
    limit: str | None = None,
    inventory_extra: str | None = None,
    args: tuple = (),
    timeout: int = 900,
    inventory: str | None = None,
    env: dict | None = None,
    cwd: str | None = None,
):
    """Run a playbook against the scenario inventory (and another inventory file), with the json callback.
    ``env`` replaces the environment (default: this process's), ``cwd`` the working directory."""
    argv = ["ansible-playbook", "-i", inventory or os.environ["MOLECULE_INVENTORY_FILE"], playbook, *args]
    if inventory_extra:
        argv[3:3] = ["-i", inventory_extra]
    if extra_vars:
        argv += ["-e", json.dumps(extra_vars)]
    if check:
        argv += ["--check", "--diff"]
    if limit:
        argv += ["--limit", limit]
    # Only the json callback may write to stdout (the scenario config enables profile_tasks).
    env = dict(os.environ if env is None else env, ANSIBLE_STDOUT_CALLBACK="ansible.builtin.json")
    env["ANSIBLE_CALLBACKS_ENABLED"] = "ansible.builtin.json"
    proc = subprocess.run(argv, capture_output=True, text=True, env=env, cwd=cwd, timeout=timeout, check=False)
    try:
        data, _end = json.JSONDecoder().raw_decode(proc.stdout[proc.stdout.index("{") :])
    except ValueError as exc:
        raise AssertionError(f"no json output from {argv}:\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}") from exc
    failures, diffs, results = [], [], []
    for play in data.get("plays", []):
        for task in play.get("tasks", []):
            for host, result in task.get("hosts", {}).items():
                results.append((task.get("task", {}).get("name", ""), host, result))
                if result.get("failed") or result.get("unreachable"):
                    failures.append(str(result.get("msg", result)))
                    failures += [str(r.get("msg", r)) for r in result.get("results", []) if r.get("failed")]
                # a task's diff, and each loop item's
                for one in [result, *result.get("results", [])]:
                    diff = one.get("diff") if isinstance(one, dict) else None
                    if diff:
                        diffs += diff if isinstance(diff, list) else [diff]
    return PlaybookRun(proc.returncode, data.get("stats", {}), failures, diffs, proc.stdout + proc.stderr, results)


def wait_for(predicate, timeout: float = 30, interval: float = 1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    return predicate()
