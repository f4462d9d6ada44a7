"""Benchmark of the stack at fleet scale: prints figures, never passes or fails on time.

In one run, on containers from the test image (warm package cache in the image):
- the raw floor: apt-get install plus postconf and a reload by hand, Postfix alone and the whole
  stack (postfix, opendkim, fail2ban), in a fresh container each;
- our first converge (playbooks/provision.yml, the whole stack; the postfix role alone);
- no-op runs and --check --diff runs (medians), with the controller's CPU seconds (user + system
  of ansible-playbook and everything it ran on the controller, from getrusage), and runs that
  change one main.cf parameter (a drift corrected: validated, written, reloaded and probed);
- the drift check (drift.yml --check --diff) over 1, 4 and 8 hosts, forks 8, and the projection
  of controller CPU for 100 and 1,000 hosts from the measured per-host figure;
- the same no-op and drift figures over SSH (an unprivileged user with sudo, pipelining and
  ControlPersist), next to the podman connection's;
- the connection's own floor: one ping module per host over 1 and 8 hosts, podman and SSH (the
  least any playbook costs; the stack's fleet ratio and CPU per host are read next to it);
- ansible's own options: the free strategy, pipelining off, and Mitogen for Ansible (from PyPI,
  into .cache/bench-mitogen; not a dependency of the collection), for comparison.
The figures are written to .cache/bench.json as well. Run through `make bench`.
"""

from __future__ import annotations

import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
IMAGE = os.environ["MAILHOST_IMAGE"]
NETWORK = "mailhost-bench"
PREFIX = "mailhost-bench-"
FLEET = 8
REPEAT = 3
WORK = tempfile.mkdtemp(prefix="mailhost-bench-")
KEY = os.path.join(WORK, "id_bench")

# The targets of the speed issue, printed next to the figures (never asserted).
TARGETS = {
    "stack_noop_s": 4.0,
    "postfix_noop_s": 3.0,
    "first_converge_ratio": 1.5,
    "cpu_per_host_s": 1.2,
    "drift_8_to_1": 2.5,
}


def podman(*args: str, check: bool = True) -> str:
    return subprocess.run(["podman", *args], capture_output=True, text=True, check=check).stdout.strip()


def start(name: str) -> str:
    """A fresh systemd container from the test image; returns its address."""
    podman("rm", "-f", name, check=False)
    podman(
        "run", "-d", "--name", name, "--hostname", f"{name[len(PREFIX):]}.example.test", "--network", NETWORK,
        "--privileged", "--systemd=always", "--ulimit", "nofile=1024:1024", "--ulimit", "nproc=4096:4096",
        IMAGE, "/sbin/init",
    )  # fmt: skip
    podman("exec", name, "systemctl", "is-system-running", "--wait", check=False)
    return podman("inspect", "-f", "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}", name)


def timed(argv: list[str], env: dict | None = None, cwd: str | None = None) -> tuple[float, float, str]:
    """Wall seconds, controller CPU seconds (this child and everything it waited for) and output."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start_t = time.monotonic()
    proc = subprocess.run(argv, capture_output=True, text=True, env=env, cwd=cwd, check=False)
    wall = time.monotonic() - start_t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if proc.returncode != 0:
        sys.exit(f"bench: {' '.join(argv)} failed ({proc.returncode}):\n{proc.stdout[-3000:]}\n{proc.stderr[-2000:]}")
    return wall, cpu, proc.stdout


def host_vars(name: str) -> dict:
    short = name[len(PREFIX) :]
    return {
        "postfix_myhostname": f"{short}.example.test",
        "postfix_mydestination": ["$myhostname", "localhost", "example.test"],
        "opendkim_keys": [{"domain": "example.test", "selector": "bench"}],
        "opendkim_record_dir": os.path.join(WORK, "dkim"),
    }


def inventory(names: list[str], ssh: dict[str, str] | None = None) -> str:
    hosts = {}
    for name in names:
        conn = (
            {"ansible_host": ssh[name], "ansible_user": "bench", "ansible_ssh_private_key_file": KEY}
            if ssh
            else {"ansible_connection": "containers.podman.podman"}
        )
        hosts[name] = {**conn, "ansible_python_interpreter": "/usr/bin/python3", **host_vars(name)}
    path = os.path.join(WORK, f"inventory-{names[0]}-{len(names)}-{'ssh' if ssh else 'podman'}.json")
    with open(path, "w", encoding="utf-8") as handle:
        json.dump({"all": {"hosts": hosts}}, handle)
    return path


MITOGEN = "mitogen==0.3.54"
MITOGEN_DIR = os.path.join(ROOT, ".cache", "bench-mitogen")


def install_mitogen() -> str | None:
    """Mitogen for Ansible from PyPI, beside the toolchain (not a dependency); its strategy path."""
    stamp = os.path.join(MITOGEN_DIR, ".installed")
    installed = ""
    if os.path.exists(stamp):
        with open(stamp, encoding="utf-8") as handle:
            installed = handle.read()
    if installed != MITOGEN:
        shutil.rmtree(MITOGEN_DIR, ignore_errors=True)
        proc = subprocess.run(
            [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", MITOGEN_DIR, MITOGEN],
            capture_output=True,
            text=True,
            check=False,
        )
        if proc.returncode != 0:
            return None
        with open(stamp, "w", encoding="utf-8") as handle:
            handle.write(MITOGEN)
    return os.path.join(MITOGEN_DIR, "ansible_mitogen", "plugins", "strategy")


def env(pipelining: bool = True, strategy: str | None = None, mitogen: str | None = None) -> dict:
    e = dict(os.environ, ANSIBLE_CONFIG=os.path.join(ROOT, "ansible.cfg"), ANSIBLE_FORKS=str(FLEET))
    if mitogen:
        e["ANSIBLE_STRATEGY_PLUGINS"] = mitogen
        e["PYTHONPATH"] = MITOGEN_DIR + os.pathsep + e.get("PYTHONPATH", "")
    e["ANSIBLE_PIPELINING"] = str(pipelining)
    e["ANSIBLE_SSH_ARGS"] = "-o ControlMaster=auto -o ControlPersist=120s -o StrictHostKeyChecking=no"
    e["ANSIBLE_SSH_ARGS"] += f" -o UserKnownHostsFile={WORK}/known_hosts"
    e["ANSIBLE_HOST_KEY_CHECKING"] = "False"
    if strategy:
        e["ANSIBLE_STRATEGY"] = strategy
    return e


def playbook(name: str, inv: str, *extra: str, **env_args) -> tuple[float, float]:
    wall, cpu, _out = timed(["ansible-playbook", "-i", inv, os.path.join(ROOT, name), *extra], env=env(**env_args))
    return wall, cpu


def try_mitogen(inv: str, label: str, fig: dict, notes: dict) -> None:
    """The whole-stack no-op under Mitogen's linear strategy, or why it did not run."""
    path = install_mitogen()
    if path is None:
        notes[label] = f"{MITOGEN} could not be installed from PyPI"
        return
    argv = ["ansible-playbook", "-i", inv, os.path.join(ROOT, "playbooks/provision.yml")]
    runs = []
    for _run in range(REPEAT):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start_t = time.monotonic()
        proc = subprocess.run(
            argv, capture_output=True, text=True, check=False, env=env(strategy="mitogen_linear", mitogen=path)
        )
        wall = time.monotonic() - start_t
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        if proc.returncode != 0:
            error = [ln for ln in (proc.stdout + proc.stderr).splitlines() if "ERROR" in ln or "fatal" in ln]
            notes[label] = f"{MITOGEN} failed: {(error or ['exit ' + str(proc.returncode)])[0][:160]}"
            return
        runs.append((wall, after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime))
    fig[label + "_s"], fig[label + "_cpu_s"] = median_of(runs)


def connection_floor(names: list[str], label: str, fig: dict, ssh: dict[str, str] | None = None) -> None:
    """One module call per host and nothing else, over 1 and 8 hosts: the connection's own cost."""
    for n in (1, FLEET):
        fig[f"{label}floor_{n}_s"], fig[f"{label}floor_{n}_cpu_s"] = median_of(
            [playbook("tests/bench/connection_floor.yml", inventory(names[:n], ssh)) for _run in range(REPEAT)]
        )


def median_of(runs: list[tuple[float, float]]) -> tuple[float, float]:
    return statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs)


def raw_floor(name: str, packages: str, extra: str) -> float:
    """apt-get install and the configuration by hand, the least any tool can do."""
    start(name)
    script = (
        "echo 'postfix postfix/main_mailer_type select Internet Site' | debconf-set-selections"
        f" && DEBIAN_FRONTEND=noninteractive apt-get install -y -q {packages} >/dev/null"
        " && postconf -e myhostname=raw.example.test smtpd_tls_security_level=may"
        " 'smtpd_relay_restrictions=permit_mynetworks, reject_unauth_destination' disable_vrfy_command=yes"
        f" && postfix reload{extra}"
    )
    wall, _cpu, _out = timed(["podman", "exec", name, "sh", "-c", script])
    podman("rm", "-f", name, check=False)
    return wall


def enable_ssh(names: list[str]) -> dict[str, str]:
    """An unprivileged user 'bench' with sudo (no password: a benchmark) and the key; returns addresses."""
    if not os.path.exists(KEY):
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", KEY], check=True)
    with open(KEY + ".pub", encoding="utf-8") as handle:
        pub = handle.read().strip()
    addresses = {}
    for name in names:
        podman(
            "exec", name, "sh", "-c",
            "id bench >/dev/null 2>&1 || useradd -m -s /bin/bash bench;"
            " install -d -m 700 -o bench -g bench ~bench/.ssh;"
            f" echo '{pub}' > ~bench/.ssh/authorized_keys; chown bench: ~bench/.ssh/authorized_keys;"
            " echo 'bench ALL=(ALL) NOPASSWD: ALL' > /etc/sudoers.d/bench; chmod 440 /etc/sudoers.d/bench;"
            " systemctl start ssh",
        )  # fmt: skip
        addresses[name] = podman("inspect", "-f", "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}", name)
    return addresses


def line(label: str, value: str, target: str = "") -> None:
    print(f"  {label:<62} {value:>14}  {target}")


def main() -> None:
    for tool in ("podman", "ansible-playbook", "ssh-keygen"):
        if not shutil.which(tool):
            sys.exit(f"bench: {tool} is missing (run through make bench)")
    podman("network", "exists", NETWORK, check=False) or podman("network", "create", NETWORK, check=False)
    fig: dict[str, float] = {}
    notes: dict[str, str] = {}
    names = [f"{PREFIX}mx{i}" for i in range(1, FLEET + 1)]
    try:
        # the floor
        fig["raw_postfix_s"] = raw_floor(PREFIX + "raw1", "postfix", "")
        fig["raw_stack_s"] = raw_floor(
            PREFIX + "raw2",
            "postfix opendkim opendkim-tools fail2ban",
            " && mkdir -p /etc/dkimkeys && opendkim-genkey -b 2048 -d example.test -s bench -D /etc/dkimkeys"
            " && systemctl restart opendkim && systemctl restart fail2ban",
        )
        # our first converge, one host alone, then the rest of the fleet together (not a figure)
        start(names[0])
        one = inventory(names[:1])
        fig["stack_first_s"], fig["stack_first_cpu_s"] = playbook("playbooks/provision.yml", one)
        for name in names[1:]:
            start(name)
        playbook("playbooks/provision.yml", inventory(names))
        # the postfix role alone
        pf = f"{PREFIX}pf1"
        start(pf)
        pf_inv = inventory([pf])
        fig["postfix_first_s"], _spread = playbook("tests/bench/postfix_only.yml", pf_inv)
        fig["postfix_noop_s"], fig["postfix_noop_cpu_s"] = median_of(
            [playbook("tests/bench/postfix_only.yml", pf_inv) for _run in range(REPEAT)]
        )
        podman("rm", "-f", pf, check=False)
        # no-op and check of the whole stack, one host
        fig["stack_noop_s"], fig["stack_noop_cpu_s"] = median_of(
            [playbook("playbooks/provision.yml", one) for _run in range(REPEAT)]
        )
        fig["stack_check_s"], fig["stack_check_cpu_s"] = median_of(
            [playbook("playbooks/provision.yml", one, "--check", "--diff") for _run in range(REPEAT)]
        )
        # correcting one drifted parameter: each run sets another message_size_limit (validated,
        # written, reloaded and probed), then the inventory's value is put back (not a figure)
        fig["stack_change_one_s"], fig["stack_change_one_cpu_s"] = median_of(
            [
                playbook("playbooks/provision.yml", one, "-e", json.dumps({"postfix_message_size_limit": size}))
                for size in range(20480000, 20480000 + REPEAT)
            ]
        )
        playbook("playbooks/provision.yml", one)
        # the drift check over 1, 4 and 8 hosts
        for n in (1, 4, FLEET):
            inv = inventory(names[:n])
            fig[f"drift_{n}_s"], fig[f"drift_{n}_cpu_s"] = median_of(
                [playbook("playbooks/drift.yml", inv, "--check", "--diff") for _run in range(REPEAT)]
            )
        connection_floor(names, "", fig)
        fig["drift_8_free_s"], fig["drift_8_free_cpu_s"] = playbook(
            "playbooks/drift.yml", inventory(names), "--check", "--diff", strategy="free"
        )
        try_mitogen(one, "mitogen_stack_noop", fig, notes)
        # over SSH
        ssh = enable_ssh(names)
        one_ssh = inventory(names[:1], ssh)
        playbook("playbooks/provision.yml", one_ssh)  # first contact: host keys, control master
        fig["ssh_stack_noop_s"], fig["ssh_stack_noop_cpu_s"] = median_of(
            [playbook("playbooks/provision.yml", one_ssh) for _run in range(REPEAT)]
        )
        fig["ssh_stack_noop_nopipe_s"], _spread = median_of(
            [playbook("playbooks/provision.yml", one_ssh, pipelining=False) for _run in range(REPEAT)]
        )
        for n in (1, 4, FLEET):
            inv = inventory(names[:n], ssh)
            fig[f"ssh_drift_{n}_s"], fig[f"ssh_drift_{n}_cpu_s"] = median_of(
                [playbook("playbooks/drift.yml", inv, "--check", "--diff") for _run in range(REPEAT)]
            )
        connection_floor(names, "ssh_", fig, ssh)
        try_mitogen(one_ssh, "mitogen_ssh_stack_noop", fig, notes)
    finally:
        for name in names:
            podman("rm", "-f", name, check=False)
        podman("network", "rm", "-f", NETWORK, check=False)
        shutil.rmtree(WORK, ignore_errors=True)

    report(fig, notes)


def floor_line(fig: dict[str, float], label: str, what: str) -> None:
    """The connection's floor (one ping per host), next to which the stack's ratio and CPU are read."""
    ratio = fig[f"{label}floor_{FLEET}_s"] / fig[f"{label}floor_1_s"]
    fig[f"{label}floor_8_to_1"] = ratio
    line(
        f"connection floor (one ping per host), 1 / {FLEET} hosts, {what}",
        f"{fig[f'{label}floor_1_s']:.1f} / {fig[f'{label}floor_{FLEET}_s']:.1f} s",
        f"{ratio:.2f}x; {fig[f'{label}floor_{FLEET}_cpu_s'] / FLEET:.2f} CPU-s per host",
    )


def report(fig: dict[str, float], notes: dict[str, str]) -> None:
    per_host = fig["drift_8_cpu_s"] / FLEET
    ssh_per_host = fig["ssh_drift_8_cpu_s"] / FLEET
    fig["first_converge_ratio"] = fig["stack_first_s"] / fig["raw_stack_s"]
    fig["postfix_first_ratio"] = fig["postfix_first_s"] / fig["raw_postfix_s"]
    fig["drift_8_to_1"] = fig["drift_8_s"] / fig["drift_1_s"]
    fig["ssh_drift_8_to_1"] = fig["ssh_drift_8_s"] / fig["ssh_drift_1_s"]
    fig["cpu_per_host_s"] = per_host
    fig["ssh_cpu_per_host_s"] = ssh_per_host
    cores = os.cpu_count() or 1
    print(f"stack benchmark, {time.strftime('%Y-%m-%d')}, {platform.node()}: {cores} cores, image {IMAGE}")
    print(f"  {'figure':<62} {'measured':>14}  target")
    line("raw floor, Postfix only (apt-get install, postconf, reload)", f"{fig['raw_postfix_s']:.1f} s")
    line("raw floor, whole stack (postfix, opendkim, fail2ban)", f"{fig['raw_stack_s']:.1f} s")
    line(
        "first converge, whole stack (provision.yml), podman",
        f"{fig['stack_first_s']:.1f} s",
        f"ratio to the floor {fig['first_converge_ratio']:.2f}x (target <= {TARGETS['first_converge_ratio']}x)",
    )
    line(
        "first converge, postfix role alone",
        f"{fig['postfix_first_s']:.1f} s",
        f"ratio {fig['postfix_first_ratio']:.2f}x",
    )
    line(
        "no-op, whole stack, podman (median)",
        f"{fig['stack_noop_s']:.1f} s",
        f"target <= {TARGETS['stack_noop_s']} s",
    )
    line(
        "no-op, postfix role alone, podman (median)",
        f"{fig['postfix_noop_s']:.1f} s",
        f"target <= {TARGETS['postfix_noop_s']} s",
    )
    line("--check --diff, whole stack, podman (median)", f"{fig['stack_check_s']:.1f} s")
    line("one main.cf parameter changed, whole stack, podman (median)", f"{fig['stack_change_one_s']:.1f} s")
    line("controller CPU, whole-stack no-op, one host", f"{fig['stack_noop_cpu_s']:.2f} CPU-s")
    for n in (1, 4, FLEET):
        line(f"drift check, {n} host(s), forks {FLEET}, podman", f"{fig[f'drift_{n}_s']:.1f} s")
    line(
        "drift check 8 hosts / 1 host, podman",
        f"{fig['drift_8_to_1']:.2f}x",
        f"target <= {TARGETS['drift_8_to_1']}x",
    )
    line(
        "controller CPU per host (drift check of 8, podman)",
        f"{per_host:.2f} CPU-s",
        f"target <= {TARGETS['cpu_per_host_s']} CPU-s",
    )
    floor_line(fig, "", "podman")
    line("drift check, 8 hosts, strategy free, podman", f"{fig['drift_8_free_s']:.1f} s")
    line("no-op, whole stack, SSH + pipelining + ControlPersist", f"{fig['ssh_stack_noop_s']:.1f} s")
    line("no-op, whole stack, SSH without pipelining", f"{fig['ssh_stack_noop_nopipe_s']:.1f} s")
    for n in (1, 4, FLEET):
        line(f"drift check, {n} host(s), forks {FLEET}, SSH", f"{fig[f'ssh_drift_{n}_s']:.1f} s")
    ratio = f"target <= {TARGETS['drift_8_to_1']}x"
    line("drift check 8 hosts / 1 host, SSH", f"{fig['ssh_drift_8_to_1']:.2f}x", ratio)
    line(
        "controller CPU per host (drift check of 8, SSH)",
        f"{ssh_per_host:.2f} CPU-s",
        f"target <= {TARGETS['cpu_per_host_s']} CPU-s",
    )
    floor_line(fig, "ssh_", "SSH")
    for label, what in (("mitogen_stack_noop", "podman"), ("mitogen_ssh_stack_noop", "SSH")):
        if label + "_s" in fig:
            line(
                f"no-op, whole stack, Mitogen (mitogen_linear), {what}",
                f"{fig[label + '_s']:.1f} s",
                f"{fig[label + '_cpu_s']:.2f} CPU-s",
            )
        else:
            line(f"no-op, whole stack, Mitogen, {what}", "not measured", notes.get(label, ""))
    for hosts in (100, 1000):
        for label, cpu in (("podman", per_host), ("SSH", ssh_per_host)):
            total = cpu * hosts
            line(
                f"projection: drift check of {hosts} hosts, {label}",
                f"{total / 60:.1f} CPU-min",
                f"{total / cores / 60:.1f} min on {cores} cores",
            )
    os.makedirs(os.path.join(ROOT, ".cache"), exist_ok=True)
    with open(os.path.join(ROOT, ".cache", "bench.json"), "w", encoding="utf-8") as handle:
        json.dump({"date": time.strftime("%Y-%m-%d"), "cores": cores, "figures": fig, "notes": notes}, handle, indent=1)


if __name__ == "__main__":
    main()
