"""A run killed at any moment, two runs at once, a full disk: the next run still converges.

Kills are aimed at the moments that matter, seen on the host: after the new files are written and
before they are live (the pending mark appears), while the change is being probed (the probe
message is held), early in the run, and with SIGINT as a user's Ctrl-C. A killed run's last
module may go on running in the container (podman exec does not stop it); the rerun waits for it.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import signal
import subprocess
import tempfile
import time

import pytest
from conftest import CONVERGE, MX, smtp_answers, stack_run

PENDING = "/var/lib/mailops-mailhost/postfix-rollback/pending.json"
# A change that needs a restart (a new listener) and one that a reload applies.
CHANGE = {"postfix_smtps_enabled": False, "postfix_message_size_limit": 20971520}


RUNS: list[subprocess.Popen] = []


def start_run(extra: dict) -> subprocess.Popen:
    """A converge in the background, in its own process group; its output goes to a file (never a full pipe)."""
    argv = ["ansible-playbook", "-i", os.environ["MOLECULE_INVENTORY_FILE"], CONVERGE, "--limit", "mx1"]
    argv += ["-e", json.dumps(extra)]
    env = dict(
        os.environ, ANSIBLE_STDOUT_CALLBACK="ansible.builtin.json", ANSIBLE_CALLBACKS_ENABLED="ansible.builtin.json"
    )
    output = tempfile.TemporaryFile()  # noqa: SIM115 - it lives as long as the run; the fixture closes it
    proc = subprocess.Popen(argv, stdout=output, stderr=subprocess.STDOUT, env=env, start_new_session=True)
    proc.output = output
    RUNS.append(proc)
    return proc


def output_of(proc: subprocess.Popen, timeout: float = 600) -> str:
    proc.wait(timeout=timeout)
    proc.output.seek(0)
    return proc.output.read().decode("utf-8", "replace")


@pytest.fixture(autouse=True)
def no_run_left_behind():
    """A run a failed test did not kill is killed, so that it cannot hold the host's lock for the next test."""
    yield
    while RUNS:
        proc = RUNS.pop()
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        proc.output.close()


def kill_when(mx1, proc: subprocess.Popen, moment, sig=signal.SIGKILL, timeout: float = 300) -> bool:
    """Kill the run (its whole process group) when ``moment(mx1)`` is true; whether it was."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        if moment(mx1):
            os.killpg(proc.pid, sig)
            proc.wait(timeout=60)
            return True
        time.sleep(0.1)
    proc.wait(timeout=600)
    return False


def listens(outside, port: int) -> bool:
    return smtp_answers(outside, port)


def live_size(outside) -> int:
    """message_size_limit as the live smtpd advertises it (EHLO SIZE), not as main.cf says."""
    out = json.loads(outside.check_output(f"smtpcheck talk {MX} 25 EHLO"))
    return int(re.search(r"^SIZE (\d+)", out["replies"][0]["text"], re.MULTILINE).group(1))


def back_to_the_baseline(mx1, outside, converge):
    run = converge()
    assert run.returncode == 0, run.messages
    assert listens(outside, 465) and live_size(outside) == 26214400


def written_not_live():
    return lambda mx1: mx1.file(PENDING).exists


def while_probing():
    """Once the master logged the restart of this change: postfix_reload is probing it then."""
    state = {}

    def moment(mx1):
        if "cursor" not in state:
            out = mx1.check_output("journalctl -n 0 --show-cursor -q --no-pager")
            state["cursor"] = out.split("cursor: ", 1)[1].strip()
            return False
        log = mx1.run(f"journalctl -q --no-pager --after-cursor '{state['cursor']}' -t postfix/master").stdout
        return "daemon started" in log or "reload -- version" in log

    return moment


def early():
    start = time.monotonic()
    return lambda _mx1: time.monotonic() - start > 4


MOMENTS = {"written-not-live": written_not_live, "while-probing": while_probing, "early": early}


@pytest.mark.parametrize("moment", list(MOMENTS))
def test_killed_run_then_rerun_brings_the_intended_configuration_live(mx1, outside, converge, moment):
    proc = start_run(CHANGE)
    killed = kill_when(mx1, proc, MOMENTS[moment]())
    assert killed, f"the run ended before the moment {moment}"
    rerun = converge(CHANGE)
    assert rerun.returncode == 0, rerun.messages
    assert not listens(outside, 465), "465 is still open: the listener change did not go live"
    assert live_size(outside) == 20971520, "the size limit on disk is not the one live"
    assert not mx1.file(PENDING).exists
    again = converge(CHANGE)
    assert again.changed("mx1") == 0, again.diff_text
    back_to_the_baseline(mx1, outside, converge)


def test_sigint_like_ctrl_c_then_rerun(mx1, outside, converge):
    proc = start_run(CHANGE)
    assert kill_when(mx1, proc, written_not_live(), sig=signal.SIGINT)
    rerun = converge(CHANGE)
    assert rerun.returncode == 0, rerun.messages
    assert not listens(outside, 465) and live_size(outside) == 20971520
    back_to_the_baseline(mx1, outside, converge)


def test_killed_broken_change_rerun_ends_on_the_last_good_configuration_with_a_clear_failure(mx1, outside, converge):
    broken = {"postfix_main_cf": {"smtpd_helo_required": "maybe"}}  # valid text, fatal once smtpd reads it
    good = mx1.check_output("sha256sum /etc/postfix/main.cf /etc/postfix/master.cf")
    proc = start_run(broken)
    assert kill_when(mx1, proc, written_not_live())
    rerun = converge(broken)
    assert rerun.returncode != 0
    assert "smtpd_helo_required" in rerun.messages and "previous configuration was restored" in rerun.messages, (
        rerun.messages
    )
    assert mx1.check_output("sha256sum /etc/postfix/main.cf /etc/postfix/master.cf") == good
    assert listens(outside, 25) and listens(outside, 587)
    assert not mx1.file(PENDING).exists
    back_to_the_baseline(mx1, outside, converge)


def test_two_runs_at_once_one_waits_for_the_other(mx1, outside, converge):
    broken = {"postfix_main_cf": {"smtpd_helo_required": "maybe"}}
    first = start_run(CHANGE)
    time.sleep(1)
    second = start_run(broken)
    out_first = output_of(first)
    out_second = output_of(second)
    assert first.returncode == 0, out_first[-3000:]
    assert second.returncode != 0 and "smtpd_helo_required" in out_second, out_second[-3000:]
    assert '"waited"' in out_second  # the lock task reports how long it waited
    assert live_size(outside) == 20971520 and not listens(outside, 465), "the good run's configuration is not live"
    assert mx1.run("test /etc/postfix/virtual.db -nt /etc/postfix/virtual -o ! -e /etc/postfix/virtual").rc == 0
    assert not mx1.file("/run/mailops-mailhost.lock").exists
    back_to_the_baseline(mx1, outside, converge)


def test_a_held_lock_makes_a_run_wait_then_fail_saying_who_holds_it(mx1, outside, converge):
    holder = {"id": "elsewhere:4242:1", "controller": "elsewhere", "pid": "4242", "user": "ops", "taken": time.time()}
    # A run with nothing to change takes no lock (it makes no change to serialise): this one has a change.
    change = {"mailhost_lock_timeout": 3, "postfix_message_size_limit": 20971520}
    mx1.check_output(f"echo '{json.dumps(holder)}' > /run/mailops-mailhost.lock")
    try:
        run = converge(change)
        assert run.returncode != 0
        assert (
            "is locked by the run elsewhere:4242:1 (ansible-playbook pid 4242 on elsewhere, user ops)" in run.messages
        )
        assert "waited 3 s" in run.messages
        check = converge(change, check=True)
        assert check.returncode != 0, "a check run went ahead while another run held the lock"
        assert live_size(outside) == 26214400, "the change went live while another run held the lock"
    finally:
        mx1.run("rm -f /run/mailops-mailhost.lock")
    stale = dict(holder, taken=time.time() - 7200)
    mx1.check_output(f"echo '{json.dumps(stale)}' > /run/mailops-mailhost.lock")
    run = converge(change)
    assert run.returncode == 0, run.messages  # older than mailhost_lock_max_age: taken over
    assert live_size(outside) == 20971520
    assert not mx1.file("/run/mailops-mailhost.lock").exists
    back_to_the_baseline(mx1, outside, converge)


def test_a_full_disk_is_reported_and_leaves_the_configuration_and_no_temporary_file(mx1, outside, converge):
    mx1.check_output("cp -a /etc/postfix /root/postfix-before")
    mx1.check_output("mount -t tmpfs -o size=2m tmpfs /etc/postfix && cp -a /root/postfix-before/. /etc/postfix/")
    try:
        mx1.run("dd if=/dev/zero of=/etc/postfix/filler bs=4k count=1000 2>/dev/null")  # fill what is left
        aliases = {f"user{i}@example.test": "alice" for i in range(3000)}
        run = converge({"postfix_virtual_aliases": aliases})
        assert run.returncode != 0
        assert "the disk is full" in run.messages or "No space left on device" in run.messages, run.messages
        assert mx1.run("ls -a /etc/postfix | grep '^.mailhost-'").stdout == ""
        assert mx1.run("postfix status").rc == 0 and listens(outside, 25)
    finally:
        mx1.run("rm -f /etc/postfix/filler; umount /etc/postfix")
        mx1.run("rm -rf /root/postfix-before")
    back_to_the_baseline(mx1, outside, converge)


def test_old_rollback_generations_are_pruned(mx1, converge):
    for size in (20971520, 26214400, 20971520, 26214400):
        assert converge({"postfix_message_size_limit": size, "postfix_keep_generations": 2}).returncode == 0
    generations = mx1.check_output("ls /var/lib/mailops-mailhost/postfix-rollback").split()
    assert len([g for g in generations if g != "pending.json"]) <= 2, generations


def test_a_stale_temporary_file_of_a_killed_write_is_removed(mx1, converge):
    mx1.check_output("touch /etc/postfix/.mailhost-leftover")
    assert converge({"postfix_message_size_limit": 20971520}).returncode == 0
    assert not mx1.file("/etc/postfix/.mailhost-leftover").exists
    assert converge().returncode == 0


def test_lock_and_pending_marks_are_gone_after_a_normal_run(mx1, converge):
    assert converge().returncode == 0
    assert not mx1.file("/run/mailops-mailhost.lock").exists
    assert (
        not mx1.file(PENDING).exists and not mx1.file("/var/lib/mailops-mailhost/opendkim-rollback/pending.json").exists
    )


POLICY_RC_D = "/usr/sbin/policy-rc.d"


def hold_mark() -> str:
    """The marker line of the stack's policy-rc.d, read from the module_utils that writes it."""
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
    with open(os.path.join(root, "plugins", "module_utils", "_service_hold.py"), encoding="utf-8") as handle:
        return re.search(r'^MARK = "(.*)"$', handle.read(), re.M).group(1)


def test_a_hold_on_service_starts_that_a_killed_run_left_is_reported_then_removed(mx1, converge):
    """Debian: while the stack installs, its policy-rc.d (exit 101) keeps the package scripts from
    starting services on their default configuration; a run killed then leaves the file behind,
    and with it no later upgrade would restart a service. The next run sees it and removes it."""
    assert converge().returncode == 0
    assert not mx1.file(POLICY_RC_D).exists  # the first converge held service starts and gave them back
    left = shlex.quote(f"#!/bin/sh\n{hold_mark()}\nexit 101\n")  # what a run killed while it installs leaves
    mx1.check_output(f"printf %s {left} > {POLICY_RC_D} && chmod 755 {POLICY_RC_D}")
    check = stack_run(check=True)
    assert check.returncode == 0, check.failures
    reported = [r for name, _h, r in check.results if "Take the host's lock" in name and r.get("changed")]
    assert reported and "killed run left" in reported[0]["msg"], check.output[-3000:]
    assert mx1.file(POLICY_RC_D).exists  # check mode only says so
    fixed = stack_run()
    assert fixed.returncode == 0 and fixed.stats["mx1"]["changed"] >= 1, fixed.failures
    assert not mx1.file(POLICY_RC_D).exists
    again = stack_run()
    assert again.returncode == 0 and again.stats["mx1"]["changed"] == 0


def test_the_administrators_own_policy_rc_d_is_left_alone(mx1, converge):
    mx1.check_output(f"printf '#!/bin/sh\\n# site policy\\nexit 0\\n' > {POLICY_RC_D} && chmod 755 {POLICY_RC_D}")
    try:
        run = stack_run({"postfix_message_size_limit": 20971520})  # a change: the stack takes the lock
        assert run.returncode == 0, run.failures
        assert mx1.file(POLICY_RC_D).content_string == "#!/bin/sh\n# site policy\nexit 0\n"
        assert stack_run().returncode == 0
        assert mx1.file(POLICY_RC_D).content_string == "#!/bin/sh\n# site policy\nexit 0\n"
    finally:
        mx1.check_output(f"rm -f {POLICY_RC_D}")
