# Copyright: mailops.mailhost contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The syntax of names: host names, domains, DKIM selectors, single-line values.

Pure functions, used by the pre-flight on the controller and by the modules on the host, so
that a name is judged by the same rule in both places. Each ``*_problem`` function returns
the rule a value breaks, in plain words, or None when the value is fine.
"""

from __future__ import annotations

import re

# RFC 1035 / RFC 1123 labels: letters, digits and inner hyphens, at most 63 characters.
_LABEL = re.compile(r"(?!-)[A-Za-z0-9-]{1,63}(?<!-)")
# RFC 6376 3.1: selector = sub-domain *( "." sub-domain ); a sub-domain is a DNS label
# (underscores are common in practice and accepted by every DKIM verifier we know).
_SELECTOR_LABEL = re.compile(r"(?!-)[A-Za-z0-9_-]{1,63}(?<!-)")


def single_line_problem(value: str) -> str | None:
    """Values written into configuration files must stay on one line and hold no NUL."""
    if "\x00" in value:
        return "must not contain a NUL byte"
    if "\n" in value or "\r" in value:
        return "must be a single line (no line breaks)"
    return None


def hostname_problem(name: str, require_dot: bool = True) -> str | None:
    """A fully qualified host or domain name: dot-separated labels of letters, digits and inner hyphens."""
    if not isinstance(name, str) or not name:
        return "must be a fully qualified domain name such as mail.example.com"
    problem = single_line_problem(name)
    if problem:
        return problem
    text = name[:-1] if name.endswith(".") else name
    if len(text) > 253:
        return "is longer than 253 characters"
    labels = text.split(".")
    if any(not _LABEL.fullmatch(label) for label in labels):
        return (
            "must be a domain name made of dot-separated labels of letters, digits and inner hyphens "
            "(no spaces, slashes or empty labels)"
        )
    if require_dot and len(labels) < 2:
        return "must be a fully qualified domain name with at least one dot, such as mail.example.com"
    if labels[-1].isdigit():
        return "must be a domain name, not an address"
    return None


def selector_problem(selector: str) -> str | None:
    """A DKIM selector (RFC 6376 3.1): dot-separated labels, no spaces, slashes or '..'."""
    if not isinstance(selector, str) or not selector:
        return "must be a DKIM selector such as mail2026"
    problem = single_line_problem(selector)
    if problem:
        return problem
    if len(selector) > 253 or any(not _SELECTOR_LABEL.fullmatch(part) for part in selector.split(".")):
        return (
            "must be a DKIM selector (RFC 6376): dot-separated labels of letters, digits, hyphens "
            "and underscores, no spaces, slashes or empty labels"
        )
    return None


def destination_problem(entry: str) -> str | None:
    """A mydestination entry: a host or domain name, a $parameter, or a lookup table."""
    if not isinstance(entry, str) or not entry:
        return "must not be empty"
    problem = single_line_problem(entry)
    if problem:
        return problem
    if entry.startswith("$") or entry == "localhost" or re.fullmatch(r"[a-z0-9_]+:\S+", entry):
        return None
    if entry.startswith("localhost.$"):
        return None
    return hostname_problem(entry)


def banner_problem(banner: str, myhostname: str = "") -> str | None:
    """The SMTP greeting must not name the MTA or its version (no help for an attacker's exploit list)."""
    problem = single_line_problem(banner)
    if problem:
        return problem
    rest = banner[len(myhostname) :] if myhostname and banner.startswith(myhostname) else banner
    if re.search(r"\$\{?mail_(name|version)\b", banner):
        return "must not expand $mail_name or $mail_version (they name the software and its version)"
    if re.search(r"postfix", rest, re.IGNORECASE):
        return "must not name the software (Postfix)"
    if re.search(r"\b\d+\.\d+(\.\d+)?\b", rest):
        return "must not carry a version number"
    if not (re.match(r"\$\{?myhostname\b", banner) or (myhostname and banner.startswith(myhostname))):
        return "must start with $myhostname (the host's name), as RFC 5321 asks of the 220 greeting"
    return None
