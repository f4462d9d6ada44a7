# Copyright: mailops.mailhost contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The pre-flight of the whole mail stack: every rule that can be judged from the variables alone.

The composing role (mailops.mailhost.mailhost) and playbooks/check.yml run it on the controller
before any role writes anything on any host. Pure functions: they take the effective values of
the roles' variables (already templated) and return one line per problem, each naming the
variable, its value and the rule. Secrets (password hashes, private keys) are never shown.
"""

from __future__ import annotations

import difflib
import ipaddress
import json
import re
from collections.abc import Mapping

from ansible_collections.mailops.mailhost.plugins.module_utils._names import (
    banner_problem,
    destination_problem,
    hostname_problem,
    selector_problem,
    single_line_problem,
)
from ansible_collections.mailops.mailhost.plugins.module_utils._policy import DEFAULT_OPTIONS, check_mynetworks
from ansible_collections.mailops.mailhost.plugins.module_utils._postfix_rules import expand, runtime_problems

# The variable prefixes of this collection's roles: a variable with one of them that no role
# knows is most likely a typing mistake (postfix_mynetwork for postfix_mynetworks).
PREFIXES = ("postfix_", "opendkim_", "certbot_", "dovecot_sasl_", "fail2ban_", "firewall_", "mailhost_")
MAX_KEY_BITS = 8192
SECRET_KEYS = ("password_hash", "private_key")
_HASH_RE = re.compile(r"^(\{[A-Z0-9-]+\})?\$(1|5|6|2[aby]|y|argon2i|argon2id)\$")
_EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+$")


def show(value: object, limit: int = 80) -> str:
    """A value as a message shows it: short, on one line (strings quoted, line breaks escaped)."""
    if not isinstance(value, str):
        text = json.dumps(value, default=str, sort_keys=True)
        return text if len(text) <= limit else text[: limit - 3] + "..."
    text = value.encode("unicode_escape").decode("ascii")
    return repr(text if len(text) <= limit else text[: limit - 3] + "...")


def line(name: str, value: object, rule: str, secret: bool = False) -> str:
    return f"{name}: {'(hidden)' if secret else show(value)} {rule}"


# --- unknown variables --------------------------------------------------------------------------


def unknown_variables(present: list[str], known: set[str]) -> list[str]:
    """Variables with one of our prefixes that no role knows, each with the nearest known name."""
    problems = []
    for name in sorted(set(present)):
        if name.startswith("_") or not name.startswith(PREFIXES) or name in known:
            continue
        close = difflib.get_close_matches(name, sorted(known), n=1, cutoff=0.75)
        hint = f"; did you mean {close[0]}?" if close else "; no role of mailops.mailhost reads it"
        problems.append(f"{name}: unknown variable{hint} (set mailhost_allow_unknown_variables: true to allow it)")
    return problems


# --- Postfix -----------------------------------------------------------------------------------


def postfix_variable(param: str, values: Mapping, main_cf: Mapping) -> str:
    """The variable a main.cf parameter comes from, for messages."""
    if param in main_cf:
        return f"postfix_main_cf.{param}"
    return f"postfix_{param}" if f"postfix_{param}" in values else f"postfix_main_cf.{param}"


def postfix_problems(values: Mapping, params: Mapping[str, str]) -> list[str]:
    """Identity, banner and the run-time rules of the main.cf parameters the postfix role writes."""
    problems = []
    hostname = values.get("postfix_myhostname", "")
    problem = hostname_problem(hostname)
    if problem:
        problems.append(line("postfix_myhostname", hostname, problem))
    domain = values.get("postfix_mydomain", "")
    problem = hostname_problem(domain) if not str(domain).startswith("$") else None
    if problem:
        problems.append(line("postfix_mydomain", domain, problem))
    for index, entry in enumerate(values.get("postfix_mydestination") or []):
        problem = destination_problem(entry)
        if problem:
            problems.append(line(f"postfix_mydestination[{index}]", entry, problem))
    banner = values.get("postfix_smtpd_banner", "")
    main_cf = values.get("postfix_main_cf") or {}
    if "smtpd_banner" in main_cf:
        banner, banner_name = str(main_cf["smtpd_banner"]), "postfix_main_cf.smtpd_banner"
    else:
        banner_name = "postfix_smtpd_banner"
    problem = banner_problem(banner, hostname)
    if problem:
        problems.append(line(banner_name, banner, problem))
    for key, value in sorted(main_cf.items()):
        text = value if isinstance(value, str) else json.dumps(value)
        problem = single_line_problem(text) or (
            None if re.fullmatch(r"[a-z][a-z0-9_]*", str(key)) else "is not a Postfix parameter name"
        )
        if problem:
            problems.append(line(f"postfix_main_cf.{key}", value, problem))
    for param, message in runtime_problems(params):
        problems.append(f"{postfix_variable(param, values, main_cf)}: {message}")
    return problems


def sasl_problems(values: Mapping, roles: list[str]) -> list[str]:
    """Authenticated submission needs a SASL provider whose socket is where Postfix looks."""
    if not values.get("postfix_sasl_enabled"):
        return []
    if values.get("postfix_sasl_type", "dovecot") != "dovecot":
        return []
    if "dovecot_sasl" not in roles:
        return [
            line(
                "postfix_sasl_enabled",
                True,
                "needs the dovecot_sasl role (the stack runs it when postfix_sasl_enabled is true); "
                "without a SASL provider the 587/465 listeners die with 'no SASL authentication mechanisms'",
            )
        ]
    path, socket = values.get("postfix_sasl_path"), values.get("dovecot_sasl_postfix_path")
    if path != socket:
        return [
            line(
                "postfix_sasl_path",
                path,
                f"must be where Dovecot puts its auth socket (dovecot_sasl_postfix_path = {show(socket)}); "
                f"otherwise the 587/465 listeners die with 'no SASL authentication mechanisms'",
            )
        ]
    return []


# --- opendkim ----------------------------------------------------------------------------------


def dkim_problems(values: Mapping, policy_options: Mapping) -> list[str]:
    problems = []
    keys = values.get("opendkim_keys") or []
    if not keys:
        problems.append(line("opendkim_keys", keys, "must list at least one domain and selector"))
    seen = set()
    default_bits = values.get("opendkim_key_bits", 2048)
    for index, key in enumerate(keys):
        name = f"opendkim_keys[{index}]"
        domain, selector = key.get("domain", ""), key.get("selector", "")
        problem = hostname_problem(domain)
        if problem:
            problems.append(line(f"{name}.domain", domain, problem))
        problem = selector_problem(selector)
        if problem:
            problems.append(line(f"{name}.selector", selector, problem))
        if (domain, selector) in seen:
            problems.append(line(name, f"{domain}/{selector}", "is listed twice"))
        seen.add((domain, selector))
        bits = key.get("bits") if key.get("bits") is not None else default_bits
        bits_name = f"{name}.bits" if key.get("bits") is not None else "opendkim_key_bits"
        if isinstance(bits, int) and not 2048 <= bits <= MAX_KEY_BITS:
            problems.append(
                line(bits_name, bits, f"must be from 2048 (RFC 8301) to {MAX_KEY_BITS} bits (larger keys take minutes)")
            )
        pem = key.get("private_key")
        if pem is not None and "PRIVATE KEY-----" not in str(pem):
            problems.append(line(f"{name}.private_key", pem, "is not a PEM private key", secret=True))
    selectors: dict[str, list[str]] = {}
    for key in keys:
        selectors.setdefault(key.get("domain", ""), []).append(key.get("selector", ""))
    for domain, selector in sorted((values.get("opendkim_signing") or {}).items()):
        if selector not in selectors.get(domain, []):
            problems.append(
                line(f"opendkim_signing.{domain}", selector, "names no key of opendkim_keys for that domain")
            )
    trusted = values.get("opendkim_trusted_hosts") or []
    for problem in check_mynetworks(" ".join(map(str, trusted)), "opendkim_trusted_hosts", policy_options):
        problems.append(
            problem.replace("may relay mail", "gets its mail signed").replace("an open relay", "a signing relay")
        )
    return problems


# --- Dovecot, certbot, fail2ban ----------------------------------------------------------------


def dovecot_problems(values: Mapping) -> list[str]:
    problems = []
    names = set()
    for index, user in enumerate(values.get("dovecot_sasl_users") or []):
        name = user.get("name", "")
        if not re.fullmatch(r"[A-Za-z0-9._@+-]+", str(name)):
            problems.append(
                line(f"dovecot_sasl_users[{index}].name", name, "must be a login name (letters, digits, . _ @ + -)")
            )
        if name in names:
            problems.append(line(f"dovecot_sasl_users[{index}].name", name, "is listed twice"))
        names.add(name)
        pw = str(user.get("password_hash", ""))
        if not _HASH_RE.match(pw) or single_line_problem(pw):
            problems.append(
                line(
                    f"dovecot_sasl_users[{index}].password_hash",
                    pw,
                    "must be a crypt hash (openssl passwd -6, or doveadm pw -s SHA512-CRYPT); "
                    "plain passwords are refused",
                    secret=True,
                )
            )
    if values.get("dovecot_sasl_passdb") == "passwd-file" and not names:
        problems.append(
            line("dovecot_sasl_users", [], "must list at least one user with dovecot_sasl_passdb passwd-file")
        )
    return problems


def certbot_problems(values: Mapping) -> list[str]:
    problems = []
    for index, domain in enumerate(values.get("certbot_domains") or []):
        problem = hostname_problem(domain)
        if problem:
            problems.append(line(f"certbot_domains[{index}]", domain, problem))
    if not values.get("certbot_domains"):
        problems.append(line("certbot_domains", [], "must list at least one name"))
    email = values.get("certbot_email", "")
    if not _EMAIL_RE.match(str(email)):
        problems.append(
            line("certbot_email", email, "must be an address for the ACME account, such as postmaster@example.com")
        )
    if values.get("certbot_key_type") == "rsa" and int(values.get("certbot_rsa_key_size") or 0) < 2048:
        problems.append(line("certbot_rsa_key_size", values.get("certbot_rsa_key_size"), "must be at least 2048"))
    return problems


def fail2ban_problems(values: Mapping) -> list[str]:
    problems = []
    for index, item in enumerate(values.get("fail2ban_ignoreip_extra") or []):
        try:
            net = ipaddress.ip_network(str(item).strip("[]").replace("]/", "/"), strict=False)
        except ValueError:
            continue  # a host name: fail2ban resolves it
        if net.prefixlen == 0:
            problems.append(
                line(f"fail2ban_ignoreip_extra[{index}]", item, "would exempt every address from bans (fail2ban off)")
            )
    for name in ("fail2ban_maxretry", "fail2ban_findtime", "fail2ban_bantime"):
        value = values.get(name)
        if isinstance(value, int) and value < 1:
            problems.append(line(name, value, "must be at least 1"))
    return problems


def probe_problems(values: Mapping, params: Mapping[str, str]) -> list[str]:
    """The delivery probe is addressed to mailhost-probe@myhostname: a local domain it must be."""
    if not values.get("postfix_probe", values.get("mailhost_probe", True)):
        return []
    hostname = str(values.get("postfix_myhostname", "")).lower()
    local = [d.lower().rstrip(".") for d in re.split(r"[\s,]+", expand(params.get("mydestination", ""), params)) if d]
    if hostname and hostname not in local:
        return [
            line(
                "postfix_mydestination",
                values.get("postfix_mydestination"),
                f"must list $myhostname ({hostname}): the probe after a change is addressed to "
                f"mailhost-probe@{hostname} and must be delivered locally (or set mailhost_probe: false)",
            )
        ]
    return []


def policy_options(values: Mapping) -> dict:
    return {
        **DEFAULT_OPTIONS,
        "mynetworks_prefix_limit_ipv4": values.get("postfix_mynetworks_prefix_limit_ipv4", 16),
        "mynetworks_prefix_limit_ipv6": values.get("postfix_mynetworks_prefix_limit_ipv6", 48),
        "mynetworks_allow_wide": values.get("postfix_mynetworks_allow_wide", False),
    }


def stack_problems(values: Mapping, roles: list[str], params: Mapping[str, str]) -> list[str]:
    """Every rule across the roles that run; ``params`` are the main.cf parameters postfix writes."""
    problems = []
    if "postfix" in roles:
        problems += postfix_problems(values, params)
        problems += sasl_problems(values, roles)
        problems += probe_problems(values, params)
    if "opendkim" in roles:
        problems += dkim_problems(values, policy_options(values))
    if "dovecot_sasl" in roles:
        problems += dovecot_problems(values)
    if "certbot" in roles:
        problems += certbot_problems(values)
    if "fail2ban" in roles:
        problems += fail2ban_problems(values)
    return problems
