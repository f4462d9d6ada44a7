# Copyright: mailops.mailhost contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Validation of a Postfix configuration directory, shared by the postconf and postfix_check modules.

Runs only read-only commands (``postconf -c DIR``); everything it decides is done by
the pure functions in ``_postconf`` and ``_policy``.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field

from ansible_collections.mailops.mailhost.plugins.module_utils._host import run, run_with_tty_stderr, words
from ansible_collections.mailops.mailhost.plugins.module_utils._master_cf import master_problems, parse_master_cf
from ansible_collections.mailops.mailhost.plugins.module_utils._policy import violations
from ansible_collections.mailops.mailhost.plugins.module_utils._postconf import (
    Finding,
    missing_references,
    parse_findings,
    parse_main_cf,
    parse_version,
    version_problems,
)

BLOCKING = ("fatal", "panic", "error")


@dataclass
class Validation:
    findings: list[Finding] = field(default_factory=list)
    params: dict[str, str] = field(default_factory=dict)
    version: tuple[int, ...] = ()

    def add(self, severity: str, message: str, program: str = "mailops.mailhost") -> None:
        self.findings.append(Finding(severity, message, program))

    def blocking(self, warnings_fatal: bool) -> list[Finding]:
        severities = (*BLOCKING, "warning") if warnings_fatal else BLOCKING
        return [f for f in self.findings if f.severity in severities]


def postfix_check(module, config_dir: str) -> list[Finding]:
    """``postfix check`` on a configuration directory, as findings; a failure always carries Postfix's words."""
    argv = [module.get_bin_path("postfix", required=True), "-c", config_dir, "check"]
    rc, out, err = run_with_tty_stderr(argv)
    findings = parse_findings(err + "\n" + out)
    if rc != 0 and not any(f.severity in BLOCKING for f in findings):
        findings.append(Finding("fatal", f"postfix check exited {rc}: {words(out, err) or 'no message'}", "postfix"))
    return findings


def _run(module, argv: list[str], result: Validation):
    rc, out, err = run(module, argv)
    result.findings.extend(parse_findings(err))
    if rc != 0 and not any(f.severity in ("fatal", "panic") for f in parse_findings(err)):
        result.add("fatal", f"{' '.join(argv)} exited {rc}: {err.strip() or out.strip()}")
    return rc, out, err


def validate_dir(
    module,
    config_dir: str,
    pending: set[str] | None = None,
    policy: bool = True,
    policy_options: dict | None = None,
    policy_names: dict | None = None,
    master_text: str | None = None,
) -> Validation:
    """Read-only checks of the configuration in ``config_dir``.

    - ``postconf -c DIR -n -x``: syntax; unknown parameters show up as warnings;
    - ``postconf -c DIR -M``: master.cf syntax;
    - every map and certificate file referenced exists (or is in ``pending``);
    - every master.cf command exists in daemon_directory;
    - values the installed Postfix version cannot parse;
    - the security policy (open relay, TLS floor), unless ``policy`` is false.
    """
    postconf = module.get_bin_path("postconf", required=True)
    result = Validation()
    rc, out, _err = _run(module, [postconf, "-c", config_dir, "-n", "-x"], result)
    if rc != 0:
        return result
    result.params = parse_main_cf(out)
    _run(module, [postconf, "-c", config_dir, "-M"], result)
    rc, out, _err = _run(module, [postconf, "-c", config_dir, "-x", "-h", "mail_version", "daemon_directory"], result)
    values = out.splitlines() if rc == 0 else []
    daemon_dir = values[1].strip() if len(values) > 1 else ""
    result.version = parse_version(values[0]) if values else ()

    if master_text is None:
        with open(os.path.join(config_dir, "master.cf"), encoding="utf-8") as handle:
            master_text = handle.read()
    rc, out, _err = run(module, [postconf, "-c", config_dir, "-d"])
    known = {line.partition("=")[0].strip() for line in out.splitlines()} if rc == 0 else None
    if known is not None:
        known |= set(result.params) | set(re.findall(r"\$\{?(\w+)", " ".join(result.params.values())))
    for problem in master_problems(master_text, known):
        result.add("error", problem)
    try:
        services = parse_master_cf(master_text)
    except ValueError:
        services = []  # reported by master_problems

    for problem in missing_references(result.params, services, os.path.exists, pending):
        result.add("error", problem)
    if daemon_dir:
        for service in services:
            if not os.path.isabs(service.command) and not os.path.exists(os.path.join(daemon_dir, service.command)):
                result.add(
                    "error",
                    f"master.cf service {service.key} runs '{service.command}', which is not in {daemon_dir}",
                )
    for problem in version_problems(result.params, result.version):
        result.add("error", problem)
    if policy:
        overrides = {s.key: s.options for s in services if s.options}
        for problem in violations(result.params, overrides, policy_options or {}, policy_names or {}):
            result.add("error", f"policy: {problem}")
    return result
