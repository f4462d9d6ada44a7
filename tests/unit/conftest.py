"""Shared fixtures: run a module's main() with arguments, and a fake Postfix command layer."""

from __future__ import annotations

import importlib
import json
import os
import subprocess
from pathlib import Path

import pytest
from ansible.module_utils import basic

# Ansible's collection finder handles every import of ansible_collections.* from the start, as in a
# play (ansible-core 2.14 installs it when its plugin loader is imported and then refuses a
# collection package another importer loaded first; 2.15 and later install it on request).
try:
    _loader = importlib.import_module("ansible.plugins.loader")
except SyntaxError:  # tests/py39: the controller's ansible-core does not load on Python 3.9; modules need no loader
    _loader = None
if hasattr(_loader, "init_plugin_loader"):
    _loader.init_plugin_loader()

try:
    from ansible.module_utils.testing import patch_module_args
except ImportError:  # ansible-core before 2.19 (make compat): the arguments go in basic._ANSIBLE_ARGS
    import contextlib

    from ansible.module_utils.common.text.converters import to_bytes

    @contextlib.contextmanager
    def patch_module_args(args=None):
        saved = basic._ANSIBLE_ARGS
        basic._ANSIBLE_ARGS = to_bytes(json.dumps({"ANSIBLE_MODULE_ARGS": args or {}}))
        try:
            yield
        finally:
            basic._ANSIBLE_ARGS = saved


from ansible_collections.mailops.mailhost.plugins.module_utils import _postfix_validate
from ansible_collections.mailops.mailhost.plugins.module_utils._postconf import parse_main_cf

MASTER_CF = (
    "smtp      inet  n       -       y       -       -       smtpd\n"
    "pickup    unix  n       -       y       60      1       pickup\n"
)
MAIN_CF = "myhostname = mx.example.com\nmynetworks = 127.0.0.0/8\nsmtpd_tls_security_level = may\n"
KNOWN_UNUSED = ("bogus",)
# What `postconf -d` names (enough for the tests' master.cf -o options).
KNOWN_PARAMS = (
    "myhostname",
    "mynetworks",
    "syslog_name",
    "smtpd_tls_security_level",
    "smtpd_sasl_auth_enable",
    "smtpd_tls_wrappermode",
    "smtpd_relay_restrictions",
    "smtpd_recipient_restrictions",
)


class ModuleExit(Exception):
    def __init__(self, result: dict, failed: bool):
        super().__init__(result.get("msg", ""))
        self.result = result
        self.failed = failed


class FakePostfix:
    """Answers the commands the modules run, from the files in the directories they name."""

    def __init__(self, daemon_dir: Path):
        self.daemon_dir = daemon_dir
        self.calls: list[list[str]] = []
        self.running = True
        self.responses: dict[str, tuple[int, str, str]] = {}
        self.journal: list[str] = []  # journalctl -o json lines after the cursor, besides the master's

    def __call__(self, argv, **_kwargs):
        argv = [str(a) for a in argv]
        self.calls.append(argv)
        tool = os.path.basename(argv[0])
        for prefix, response in self.responses.items():
            if " ".join([tool, *argv[1:]]).startswith(prefix):
                return response
        if tool == "postconf":
            return self.postconf(argv)
        if tool in ("postmap", "postalias"):
            table = argv[-1].split(":", 1)[1]
            Path(table + ".db").write_text("compiled")
            return 0, "", ""
        if tool == "postfix" and argv[-1] == "status":
            return (
                (0, "", "")
                if self.running
                else (1, "", "postfix/postfix-script: the Postfix mail system is not running")
            )
        if tool == "postfix" and argv[-1] == "check":
            return 0, "", ""
        if tool == "systemctl":
            self.running = True
            return 0, "", ""
        if tool == "journalctl":
            if "--show-cursor" in argv:
                return 0, "-- cursor: s=fake\n", ""
            return (
                0,
                "\n".join(
                    [
                        *self.journal,
                        journal_entry("reload -- version 3.7.11", "postfix/master", 6),
                        journal_entry("daemon started -- version 3.7.11", "postfix/master", 6),
                    ]
                )
                + "\n",
                "",
            )
        raise AssertionError(f"unexpected command {argv}")

    def postconf(self, argv):
        config_dir = argv[argv.index("-c") + 1] if "-c" in argv else str(self.config)
        if "-M" in argv:
            return 0, "smtp inet n - y - - smtpd\n" if "smtp/inet" in argv else "", ""
        if "-d" in argv:
            return 0, "".join(f"{name} =\n" for name in KNOWN_PARAMS), ""
        params = parse_main_cf(Path(config_dir, "main.cf").read_text())
        if "-h" in argv:
            names = argv[argv.index("-h") + 1 :]
            defaults = {
                "mail_version": "3.7.11",
                "daemon_directory": str(self.daemon_dir),
                "queue_directory": str(self.daemon_dir.parent / "queue"),
                "inet_interfaces": "all",
            }
            return 0, "".join(params.get(n, defaults.get(n, "")) + "\n" for n in names), ""
        names = [a for a in argv[argv.index("-x") + 1 :] if not a.startswith("-")] if "-x" in argv else []
        if names and "-n" not in argv:
            return 0, "".join(f"{n} = {params.get(n, '')}\n" for n in names), ""
        err = "".join(
            f"postconf: warning: {config_dir}/main.cf: unused parameter: {k}={v}\n"
            for k, v in params.items()
            if k.startswith(KNOWN_UNUSED)
        )
        return 0, "".join(f"{k} = {v}\n" for k, v in params.items()), err


@pytest.fixture
def postfix_env(tmp_path, monkeypatch):
    """A config dir with main.cf/master.cf, a daemon dir, and the fake command layer."""
    config = tmp_path / "etc"
    config.mkdir()
    (config / "main.cf").write_text(MAIN_CF)
    (config / "master.cf").write_text(MASTER_CF)
    daemon = tmp_path / "libexec"
    daemon.mkdir()
    for cmd in ("smtpd", "pickup", "cleanup"):
        (daemon / cmd).write_text("")
    (tmp_path / "queue" / "deferred").mkdir(parents=True)
    fake = FakePostfix(daemon)
    monkeypatch.setattr(basic.AnsibleModule, "run_command", lambda self, argv, **kw: fake(argv, **kw))
    # postfix check runs with its stderr on a terminal (Postfix's words reach it only there).
    monkeypatch.setattr(_postfix_validate, "run_with_tty_stderr", lambda argv, timeout=120.0: fake(argv))
    monkeypatch.setattr(
        basic.AnsibleModule, "get_bin_path", lambda self, name, required=False, opt_dirs=None: f"/usr/sbin/{name}"
    )
    fake.config = config
    fake.tmp = tmp_path
    return fake


@pytest.fixture
def run_module(monkeypatch):
    def _exit(self, **kwargs):
        raise ModuleExit(kwargs, failed=False)

    def _fail(self, msg, **kwargs):
        raise ModuleExit({"msg": msg, **kwargs}, failed=True)

    monkeypatch.setattr(basic.AnsibleModule, "exit_json", _exit)
    monkeypatch.setattr(basic.AnsibleModule, "fail_json", _fail)

    def _run(module, args: dict, check_mode: bool = False, diff: bool = False) -> ModuleExit:
        full = dict(args, _ansible_check_mode=check_mode, _ansible_diff=diff)
        with patch_module_args(json.loads(json.dumps(full))), pytest.raises(ModuleExit) as exc:
            module.main()
        return exc.value

    return _run


def journal_entry(message: str, ident: str = "postfix/smtpd", priority: int = 2, timestamp_us: int = 10**17) -> str:
    """One line of ``journalctl -o json`` output, as journald writes it."""
    return json.dumps(
        {
            "__REALTIME_TIMESTAMP": str(timestamp_us),
            "SYSLOG_IDENTIFIER": ident,
            "PRIORITY": str(priority),
            "MESSAGE": message,
        }
    )


@pytest.fixture(scope="session")
def rsa_key():
    """A PEM RSA private key of the given size, made by the real openssl (cached per size)."""
    made: dict[int, str] = {}

    def _key(bits: int = 2048) -> str:
        if bits not in made:
            made[bits] = subprocess.run(
                ["openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt", f"rsa_keygen_bits:{bits}"],
                capture_output=True,
                text=True,
                check=True,
            ).stdout
        return made[bits]

    return _key
