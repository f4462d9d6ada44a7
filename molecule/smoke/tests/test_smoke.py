"""Smoke checks of the Molecule harness: the container is a real systemd host."""

import json
import os
import subprocess


def test_systemd_is_pid1_and_running(host):
    assert host.run("cat /proc/1/comm").stdout.strip() == "systemd"
    state = host.run("systemctl is-system-running").stdout.strip()
    assert state == "running", f"systemd state: {state}; failed: {host.run('systemctl --failed').stdout}"


def test_python3_present(host):
    cmd = host.run("python3 -c 'import sys, apt; print(sys.version_info[0])'")
    assert cmd.rc == 0, cmd.stderr
    assert cmd.stdout.strip() == "3"


def test_converge_wrote_marker(host):
    marker = host.file("/etc/mailhost-smoke")
    assert marker.is_file
    assert marker.mode == 0o644
    # The ansible backend of testinfra strips the final newline; compare the text itself.
    assert marker.content_string.rstrip("\n") == "converged by molecule"
    assert host.run("wc -l < /etc/mailhost-smoke").stdout.strip() == "1"


def test_collection_fqcn_resolves():
    out = subprocess.run(
        ["ansible-galaxy", "collection", "list", "mailops.mailhost", "--format", "json"],
        capture_output=True,
        text=True,
        check=True,
        env=os.environ,
    )
    found = {name for path in json.loads(out.stdout).values() for name in path}
    assert "mailops.mailhost" in found


def test_provision_in_check_mode_on_a_fresh_host_changes_nothing(host):
    """The whole provision playbook in check mode on a host that has no mail software yet."""
    playbook = os.path.join(os.environ["MOLECULE_PROJECT_DIRECTORY"], "playbooks", "provision.yml")
    extra = {
        "postfix_myhostname": "smoke1.example.test",
        "opendkim_keys": [{"domain": "example.test", "selector": "s1"}],
        "opendkim_record_dir": "/tmp",
        "postfix_sasl_enabled": True,
        "dovecot_sasl_users": [{"name": "u", "password_hash": "$6$salt$hash"}],
    }
    run = subprocess.run(
        [
            "ansible-playbook",
            "-i",
            os.environ["MOLECULE_INVENTORY_FILE"],
            playbook,
            "--check",
            "--diff",
            "-e",
            json.dumps(extra),
        ],
        capture_output=True,
        text=True,
        env=os.environ,
        check=False,
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    for package in ("postfix", "opendkim", "dovecot-core", "fail2ban"):
        assert not host.package(package).is_installed, f"check mode installed {package}"
    assert not host.file("/etc/postfix").exists
