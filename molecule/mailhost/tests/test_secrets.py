"""No secret reaches any log: not the controller's output at -vvv, not the host's journal, not a file the run leaves.

The secrets come from Ansible Vault, as users keep them: a DKIM private key for a new selector and
a Dovecot password hash. They are looked for after a converge, a failing run and a check run,
all at -vvv: in the controller's output, in the whole journal of the host, and in every file
under the places a run writes besides the files they belong in (/tmp, /var/tmp, Ansible's
remote temporary directory, /var/log, the rollback generations; a generation may hold the
previous key file itself for a rollback, as 0600 in a root-only directory, which is checked).
"""

from __future__ import annotations

import subprocess

import pytest
import yaml
from conftest import stack_run

HASH = "$6$secretsalt$uG3VbGSKBs0P3eLvFMFRqfd6ZjxCWbNiWBw1qLQ8a4oAqZ5Hy3VpLg3kQ9vG2N9f5YwQqYJ4cxyv9W3k2r1nA."
ALICE = "$6$mailhosttest$5knLB0imYmPIqBm4ipDl/VcUz/FxkU4PGqj/OuU7o7FJBBAX3NrwuKcAG7eIkWV2YyQ65KBpJbUMUPUBTS2NV/"
WRITE_PLACES = "/tmp /var/tmp /root/.ansible /var/log /var/lib/mailops-mailhost /etc/postfix"


@pytest.fixture(scope="module")
def vault(tmp_path_factory):
    work = tmp_path_factory.mktemp("vault")
    pem = subprocess.run(
        ["openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    secrets = {
        "opendkim_keys": [
            {"domain": "example.test", "selector": "stack1"},
            {"domain": "example.test", "selector": "vaulted", "private_key": pem},
        ],
        "dovecot_sasl_users": [
            {
                "name": "alice",
                "password_hash": ALICE,
            },
            {"name": "bob", "password_hash": HASH},
        ],
    }
    (work / "password").write_text("test-vault-password\n")
    vars_file = work / "secrets.yml"
    vars_file.write_text(yaml.safe_dump(secrets))
    subprocess.run(
        ["ansible-vault", "encrypt", "--vault-password-file", str(work / "password"), str(vars_file)], check=True
    )
    assert "$ANSIBLE_VAULT" in vars_file.read_text()
    needles = [line for line in pem.splitlines() if not line.startswith("-----")][1:4] + [HASH, HASH.split("$")[3][:40]]
    return {
        "args": ("-vvv", "--vault-password-file", str(work / "password"), "-e", f"@{vars_file}"),
        "needles": needles,
    }


@pytest.fixture(scope="module")
def runs(vault, mx1):
    mx1.run("journalctl --rotate >/dev/null 2>&1; true")
    good = stack_run(args=vault["args"])
    failing = stack_run({"postfix_main_cf": {"bogus_parameter": "1"}}, args=vault["args"])
    check = stack_run(check=True, args=vault["args"])
    return {"good": good, "failing": failing, "check": check}


def test_the_runs_did_what_they_should(runs, mx1):
    assert runs["good"].returncode == 0, runs["good"].messages
    assert runs["failing"].returncode != 0 and "unused parameter: bogus_parameter" in runs["failing"].messages
    assert runs["check"].returncode == 0
    assert mx1.file("/etc/opendkim/keys/example.test/vaulted.private").mode == 0o600


@pytest.mark.parametrize("run", ["good", "failing", "check"])
def test_no_secret_in_the_controllers_output(runs, vault, run):
    output = runs[run].output
    for needle in vault["needles"]:
        assert needle not in output, f"a secret is in the output of the {run} run"


def test_no_secret_in_the_hosts_journal(runs, vault, mx1):
    journal = mx1.run("journalctl --no-pager -o verbose").stdout
    assert "Invoked with" in journal  # the modules' own log lines are there, without the secrets
    for needle in vault["needles"]:
        assert needle not in journal, "a secret is in the host's journal"


def test_no_secret_in_the_files_a_run_leaves(runs, vault, mx1):
    for needle in vault["needles"]:
        found = mx1.run(f"grep -rlF -- '{needle}' {WRITE_PLACES} 2>/dev/null").stdout.split()
        for path in found:
            # Only a rollback copy of a key file (root-only) may hold key material.
            assert path.startswith("/var/lib/mailops-mailhost/opendkim-rollback/"), f"{path} holds a secret"
            assert mx1.file(path).mode == 0o600, f"{path} is readable by others"
            assert mx1.file(path.rsplit("/", 1)[0]).mode == 0o700


def test_back_to_the_scenarios_keys_and_users(converge, mx1):
    run = converge()
    assert run.returncode == 0, run.messages
