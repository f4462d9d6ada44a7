"""A host that corrects itself: the pull role's timer runs ansible-pull from the inventory repository.

The repository is a local git repository on the host (file:///srv/inventory.git), the collection
the tarball the user built, ansible-core a wheel directory (the host reaches no package index
here): what `mailops.mailhost.pull` sets up is what a host with network gets from Galaxy and PyPI.
The timer runs every 15 seconds here. Every assertion waits for a run the timer started after the
event under test: drift made by hand is corrected, a commit the stack refuses leaves the host on its
last good configuration (and the unit failed), the next good commit is applied.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest
import yaml
from conftest_common import wait_for
from installed_env import PROJECT, WORK, provision, tarball

VAULT_PASSWORD = "pull vault secret"
TEAM = "/srv/team"  # the team's clone on the host, from which the test pushes commits
HOSTS = {
    "all": {
        "hosts": {
            "ssh1": {
                "opendkim_keys": [{"domain": "example.test", "selector": "inst1"}],
                "postfix_mydestination": ["$myhostname", "localhost", "example.test"],
            }
        }
    }
}
LOCAL_YML = """\
---
- name: This host's mail stack
  ansible.builtin.import_playbook: mailops.mailhost.provision
"""


def ansible_core_spec() -> str:
    with open(os.path.join(PROJECT, "roles", "pull", "defaults", "main.yml"), encoding="utf-8") as handle:
        return yaml.safe_load(handle)["pull_ansible_core"]


def git(cwd: str, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=Mail Team", "-c", "user.email=team@example.test", *args],
        cwd=cwd,
        check=True,
        capture_output=True,
    )


def vault_encrypt(value: str, name: str) -> str:
    """An inline vault value, as a team keeps a secret in its inventory."""
    password_file = os.path.join(WORK, "pull-vault-password")
    with open(password_file, "w", encoding="utf-8") as handle:
        handle.write(VAULT_PASSWORD + "\n")
    return subprocess.run(
        ["ansible-vault", "encrypt_string", "--vault-password-file", password_file, value, "--name", name],
        check=True,
        capture_output=True,
        text=True,
    ).stdout


def podman_cp(source: str, target: str) -> None:
    subprocess.run(["podman", "cp", source, f"ssh1:{target}"], check=True, capture_output=True)


def service(ssh1) -> dict:
    out = ssh1.check_output(
        "systemctl show mailhost-pull.service -p ActiveState -p Result -p ExecMainStatus -p InvocationID"
        " -p ExecMainStartTimestampMonotonic -p ExecMainExitTimestampMonotonic"
    )
    return dict(line.split("=", 1) for line in out.splitlines())


def journal_cursor(ssh1) -> str:
    """Where the host's journal is now: what is logged later comes after this cursor."""
    out = ssh1.check_output("journalctl -q -n 1 --show-cursor")
    return next(line for line in out.splitlines() if line.startswith("-- cursor: "))[len("-- cursor: ") :]


def now(ssh1) -> int:
    """The host's monotonic clock in microseconds, as systemd's *TimestampMonotonic are."""
    return int(ssh1.check_output("python3 -c 'import time; print(int(time.monotonic() * 1e6))'"))


def next_run(ssh1, after: int, timeout: int = 420) -> dict:
    """The first run of the service the timer started after ``after``, once it has ended; its
    state and its journal."""
    found: dict = {}

    def ended():
        state = service(ssh1)
        started = int(state["ExecMainStartTimestampMonotonic"] or 0)
        stopped = int(state["ExecMainExitTimestampMonotonic"] or 0)
        if started > after and stopped >= started and state["ActiveState"] in ("inactive", "failed"):
            found.update(state)
            return True
        return False

    assert wait_for(ended, timeout=timeout, interval=3), service(ssh1)
    found["journal"] = ssh1.check_output(f"journalctl -q -o cat _SYSTEMD_INVOCATION_ID={found['InvocationID']}")
    return found


def push(ssh1, message: str, hosts: dict) -> None:
    """A commit of the team's, pushed to the repository the host pulls from."""
    ssh1.check_output(f"cat > {TEAM}/hosts.yml <<'EOF'\n{yaml.safe_dump(hosts)}EOF")
    ssh1.check_output(
        f"git -C {TEAM} -c user.name='Mail Team' -c user.email=team@example.test commit -qam '{message}'"
        f" && git -C {TEAM} push -q origin main"
    )


@pytest.fixture(scope="module")
def pull_setup(ssh1, installed):
    """The repository on the host, then `ansible-playbook mailops.mailhost.pull` twice, as the user."""
    repo = os.path.join(WORK, "inventory-repo")
    os.makedirs(repo)
    hosts = {"all": {"hosts": {"ssh1": dict(HOSTS["all"]["hosts"]["ssh1"])}}}
    with open(os.path.join(repo, "hosts.yml"), "w", encoding="utf-8") as handle:
        yaml.safe_dump(hosts, handle)
        # the host name, a secret here only to prove the host decrypts the team's vault
        handle.write("    " + vault_encrypt("ssh1.example.test", "postfix_myhostname").replace("\n", "\n    "))
    with open(os.path.join(repo, "local.yml"), "w", encoding="utf-8") as handle:
        handle.write(LOCAL_YML)
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "The mail host")
    git(WORK, "clone", "-q", "--bare", repo, "inventory.git")
    podman_cp(os.path.join(WORK, "inventory.git"), "/srv/inventory.git")
    podman_cp(tarball(), "/srv/mailops-mailhost.tar.gz")
    wheels = os.path.join(WORK, "wheels")
    subprocess.run(
        [sys.executable, "-m", "pip", "download", "-q", "-d", wheels, ansible_core_spec()],
        check=True,
        capture_output=True,
    )
    podman_cp(wheels, "/srv/wheels")
    settings = {
        "pull_repo_url": "file:///srv/inventory.git",
        "pull_inventory": "hosts.yml",
        "pull_collection_source": "/srv/mailops-mailhost.tar.gz",
        "pull_pip_args": ["--no-index", "--find-links", "/srv/wheels"],
        "pull_on_calendar": "*:*:0/15",
        "pull_randomized_delay": "0",
        "pull_vault_password": VAULT_PASSWORD,
    }
    first = provision(installed, "mailops.mailhost.pull", settings)
    assert first.returncode == 0, first.messages or first.output[-4000:]
    second = provision(installed, "mailops.mailhost.pull", settings)
    assert second.returncode == 0, second.messages or second.output[-4000:]
    # the team's clone, for the commits the tests push (git is on the host now)
    ssh1.check_output(f"git clone -q /srv/inventory.git {TEAM}")
    yield first, second, hosts, settings
    ssh1.run("systemctl stop mailhost-pull.timer")


def test_the_pull_setup_changes_nothing_the_second_time(ssh1, installed, pull_setup):
    first, second, _hosts, settings = pull_setup
    assert first.changed("ssh1") > 0
    assert second.changed("ssh1") == 0, second.results
    units = ssh1.check_output("cat /etc/systemd/system/mailhost-pull.service /etc/systemd/system/mailhost-pull.timer")
    # check mode: another schedule is reported, with its diff, and not written
    check = provision(installed, "mailops.mailhost.pull", {**settings, "pull_on_calendar": "*:0/10"}, check=True)
    assert check.returncode == 0, check.messages
    assert "+OnCalendar=*:0/10" in check.diff_text, check.diff_text
    assert (
        ssh1.check_output("cat /etc/systemd/system/mailhost-pull.service /etc/systemd/system/mailhost-pull.timer")
        == units
    )


def test_the_timer_applies_the_repository(ssh1, pull_setup):
    assert ssh1.check_output("systemctl is-enabled mailhost-pull.timer") == "enabled"
    assert ssh1.check_output("systemctl is-active mailhost-pull.timer") == "active"
    assert ssh1.check_output("systemctl show mailhost-pull.service -p TriggeredBy --value") == "mailhost-pull.timer"
    run = next_run(ssh1, now(ssh1))
    assert run["Result"] == "success", run["journal"][-4000:]
    # ansible-pull checked the repository out and ran its local.yml for this host only, locally
    assert "Starting Ansible Pull" in run["journal"]
    recap = [line for line in run["journal"].splitlines() if line.startswith("ssh1 ")]
    assert recap and "failed=0" in recap[-1] and "unreachable=0" in recap[-1], run["journal"][-3000:]
    # the host's own ansible-core and the collection version it was set up with
    version = ssh1.check_output("/opt/mailhost-pull/venv/bin/ansible --version | head -1")
    assert ansible_core_spec().split("==")[1] in version


def test_drift_made_by_hand_is_corrected_on_the_next_timer_run(ssh1, pull_setup):
    level = ssh1.check_output("postconf -h smtpd_tls_security_level")
    banner = ssh1.check_output("postconf -h smtpd_banner")
    # The timer is held while the drift is made, so no run already under way corrects it; then
    # the first run after it is the one to report the correction. A start the timer asks for while
    # a run is under way is queued behind it, so runs may follow each other closely: the journal
    # from a cursor taken before the drift holds every one of them, in order.
    ssh1.check_output("systemctl stop mailhost-pull.timer")
    assert wait_for(lambda: service(ssh1)["ActiveState"] in ("inactive", "failed"), timeout=420, interval=2)
    cursor = journal_cursor(ssh1)
    ssh1.check_output("postconf -e smtpd_tls_security_level=none 'smtpd_banner=$myhostname ESMTP Postfix (Debian)'")
    ssh1.check_output("postfix reload")
    mark = now(ssh1)
    ssh1.check_output("systemctl start mailhost-pull.timer")
    run = next_run(ssh1, mark)
    assert run["Result"] == "success", run["journal"][-4000:]
    assert ssh1.check_output("postconf -h smtpd_tls_security_level") == level
    assert ssh1.check_output("postconf -h smtpd_banner") == banner
    journal = ssh1.check_output(f"journalctl -q -o cat -u mailhost-pull.service --after-cursor='{cursor}'")
    recaps = [line for line in journal.splitlines() if line.startswith("ssh1 ")]
    # the first run after the drift changed the host back, and failed nothing
    assert recaps and "changed=0" not in recaps[0] and "failed=0" in recaps[0], recaps


def test_a_refused_commit_keeps_the_last_good_configuration(ssh1, pull_setup):
    _first, _second, hosts, _settings = pull_setup
    main_cf = ssh1.check_output("cat /etc/postfix/main.cf")
    bad = {"all": {"hosts": {"ssh1": {**hosts["all"]["hosts"]["ssh1"], "postfix_mynetworks": ["0.0.0.0/0"]}}}}
    # later commits carry the host name in plain text
    bad["all"]["hosts"]["ssh1"]["postfix_myhostname"] = "ssh1.example.test"
    push(ssh1, "Trust everyone (a mistake)", bad)
    mark = now(ssh1)
    run = next_run(ssh1, mark)
    # the unit is failed, for monitoring, and the run says why, naming the variable
    assert run["Result"] == "exit-code" and run["ActiveState"] == "failed", run
    assert "postfix_mynetworks" in run["journal"] and "open relay" in run["journal"], run["journal"][-4000:]
    # nothing of it reached the host: the running configuration is the last good one
    assert ssh1.check_output("cat /etc/postfix/main.cf") == main_cf
    assert "0.0.0.0/0" not in ssh1.check_output("postconf -h mynetworks")
    assert ssh1.check_output("systemctl is-active postfix") == "active"
    assert ssh1.check_output("systemctl is-active mailhost-pull.timer") == "active"
    out = ssh1.run(
        "swaks --server 127.0.0.1 --from someone@example.net --to deploy@ssh1.example.test"
        " --header 'Subject: after-refused-commit' --timeout 30"
    )
    assert out.rc == 0, out.stdout[-2000:]
    assert wait_for(lambda: "Subject: after-refused-commit" in ssh1.run("cat /var/mail/deploy").stdout, timeout=60)
    # the team reverts; the next timer run applies the repository again
    good = {"all": {"hosts": {"ssh1": {**hosts["all"]["hosts"]["ssh1"], "postfix_myhostname": "ssh1.example.test"}}}}
    push(ssh1, "Revert: trust only our own networks", good)
    time.sleep(1)
    run = next_run(ssh1, now(ssh1))
    assert run["Result"] == "success", run["journal"][-4000:]


def test_the_vault_password_is_kept_secret(ssh1, pull_setup):
    first, second, _hosts, _settings = pull_setup
    assert ssh1.check_output("stat -c '%a %U' /opt/mailhost-pull/vault-password") == "600 root"
    for run in (first, second):
        assert VAULT_PASSWORD not in run.output
    assert ssh1.run(f"journalctl -q -o cat | grep -c -F '{VAULT_PASSWORD}'").stdout.strip() == "0"
    unit = ssh1.check_output("systemctl cat mailhost-pull.service")
    assert "--vault-password-file" in unit and VAULT_PASSWORD not in unit


def test_bad_pull_settings_are_refused_before_the_host_is_touched(ssh1, installed, pull_setup):
    _first, _second, _hosts, settings = pull_setup
    unit = ssh1.check_output("cat /etc/systemd/system/mailhost-pull.timer")
    run = provision(
        installed,
        "mailops.mailhost.pull",
        {**settings, "pull_on_calendar": "every tuesday", "pull_playbook": "../outside.yml", "pull_timeout": "soon"},
    )
    assert run.returncode != 0
    message = run.messages + run.output[-3000:]
    assert "pull_on_calendar: every tuesday is not a systemd calendar event" in message, message
    assert "pull_playbook: must be a path inside the repository" in message, message
    assert "pull_timeout: soon is not a systemd time span" in message, message
    assert ssh1.check_output("cat /etc/systemd/system/mailhost-pull.timer") == unit
