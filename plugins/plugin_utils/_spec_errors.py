# Copyright: mailops.mailhost contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""ArgumentSpecValidator's errors as one line each, naming the variable and the rule.

Ansible's own role validation fails with its message and the whole argument spec; the pre-flight
says instead, for example, "postfix_message_size_limit: 'huge' is not an int".
"""

from __future__ import annotations

import re

from ansible_collections.mailops.mailhost.plugins.module_utils._preflight import show

_TYPE = re.compile(
    # the type is a name (ansible-core 2.19) or "<class '...'>" (before)
    r"argument '(?P<name>[^']+)' is of type (?P<got><class '[^']+'>|\S+)(?: found in '(?P<parent>[^']+)'\.)? "
    r"and we were unable to convert to (?P<want>\w+)"
)
_ELEMENT = re.compile(
    r"Elements value for option '(?P<name>[^']+)' is of type (?P<got><class '[^']+'>|\S+) .*convert to (?P<want>\w+)"
)
_CHOICES = re.compile(
    r"value of (?P<name>\S+) must be one of: (?P<choices>.+?), got: (?P<got>.*?)(?: found in '?(?P<parent>[^']+)'?)?$"
)
_REQUIRED = re.compile(r"missing required arguments: (?P<names>.+?)(?: found in (?P<parent>\S+))?$")
_UNSUPPORTED = re.compile(r"^(?P<name>\S+?)\. Supported parameters include: (?P<ok>.+?)\.?$")
_SECRET_NAMES = ("password", "private_key")


def _converts(value, want: str) -> bool:
    if want == "int":
        return isinstance(value, int) or (isinstance(value, str) and value.strip().lstrip("-").isdigit())
    if want == "bool":
        return isinstance(value, bool) or str(value).lower() in ("yes", "no", "true", "false", "1", "0", "on", "off")
    return isinstance(value, {"dict": dict, "list": list}.get(want, str))


def _bad_entry(entries, key: str, want: str):
    """(index, value) of the first entry of a list of dicts whose ``key`` is not of type ``want``."""
    for index, entry in enumerate(entries if isinstance(entries, list) else []):
        if isinstance(entry, dict) and key in entry and not _converts(entry[key], want):
            return index, entry[key]
    return "", ""


def _article(word: str) -> str:
    return f"an {word}" if word[:1] in "aeiou" else f"a {word}"


def short_error(error: Exception, values: dict) -> str | None:
    """One line, naming the variable and the rule, from an ArgumentSpecValidator error (None: a repeat)."""
    kind = type(error).__name__
    message = " ".join(str(getattr(error, "msg", error)).split())
    if kind == "NoLogError":
        return None  # the same bad value is reported by its type error
    match = _TYPE.search(message)
    if match:
        parent, name, want = match.group("parent"), match.group("name"), match.group("want")
        if parent:
            index, value = _bad_entry(values.get(parent), name, want)
            name = f"{parent}[{index}].{name}"
        else:
            value = values.get(name)
        shown = "(hidden)" if any(s in name for s in _SECRET_NAMES) else show(value)
        return f"{name}: {shown} is not {_article(want)} (it must be of type {want})"
    match = _ELEMENT.search(message)
    if match:
        want, got = _article(match.group("want")), re.sub(r"^<class '(?:[\w.]*\.)?(\w+)'>$", r"\1", match.group("got"))
        return f"{match.group('name')}: every element must be {want}, one is a {got}"
    match = _CHOICES.search(message)
    if match:
        name = f"{match.group('parent')}[].{match.group('name')}" if match.group("parent") else match.group("name")
        return f"{name}: {match.group('got')!r} is not one of {match.group('choices')}"
    match = _REQUIRED.search(message)
    if match:
        return f"{match.group('parent') or 'the role'}: every entry needs {match.group('names')}"
    match = _UNSUPPORTED.search(message)
    if match:
        return f"{match.group('name')}: unknown key; the keys are {match.group('ok')}"
    return f"{message[:300]}"
