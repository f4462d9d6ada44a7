# Copyright: mailops.mailhost contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Bringing a Postfix configuration live: which action, what the journal said, where to probe, the queue size.

Pure decisions, except queue_size, which counts the queue files on disk.
"""

from __future__ import annotations

import json
import os
import re

QUEUES = ("maildrop", "incoming", "active", "deferred", "hold")
# syslog priorities: 0 emerg .. 3 err; Postfix logs "error:" at LOG_ERR, "fatal:"/"panic:" at LOG_CRIT.
ERROR_PRIORITY = 3
_SEVERITY_RE = re.compile(r"\b(error|fatal|panic):")


def decide_action(running: bool, restart: bool) -> str:
    """'start' a stopped Postfix, 'restart' when asked or required, otherwise 'reload'."""
    if not running:
        return "start"
    return "restart" if restart else "reload"


def parse_cursor(text: str) -> str:
    """The cursor from ``journalctl -n 0 --show-cursor`` ('-- cursor: s=...'), or ''."""
    match = re.search(r"^-- cursor: (\S+)", text, re.MULTILINE)
    return match.group(1) if match else ""


def journal_entries(lines: str) -> list[tuple[str, int, str]]:
    """(identifier, priority, message) of the Postfix entries in ``journalctl -o json`` output."""
    entries = []
    for raw in lines.splitlines():
        text = raw.strip()
        if not text.startswith("{"):
            continue
        try:
            entry = json.loads(text)
            priority = int(entry.get("PRIORITY", 6))
        except (TypeError, ValueError):
            continue
        ident = str(entry.get("SYSLOG_IDENTIFIER", ""))
        if not ident.startswith("postfix"):  # postfix, postfix/smtpd, postfix/submission/smtpd, ...
            continue
        message = entry.get("MESSAGE", "")
        if isinstance(message, list):  # journald gives bytes as a list of ints
            message = bytes(message).decode("utf-8", "replace")
        entries.append((ident, priority, str(message)))
    return entries


def errors_in(entries: list[tuple[str, int, str]]) -> list[str]:
    """The error, fatal and panic lines among the entries."""
    return [f"{i}: {m}" for i, p, m in entries if p <= ERROR_PRIORITY or _SEVERITY_RE.search(m)]


def went_live(entries: list[tuple[str, int, str]], action: str) -> bool:
    """Whether master logged that the action is done: 'reload -- version' or 'daemon started -- version'."""
    wanted = "reload -- version" if action == "reload" else "daemon started -- version"
    return any(i.endswith("/master") and wanted in m for i, _p, m in entries)


def journal_errors(lines: str, since_us: int) -> list[str]:
    """Postfix error/fatal/panic messages in ``journalctl -o json`` output, logged at or after ``since_us``."""
    found: list[str] = []
    for raw in lines.splitlines():
        text = raw.strip()
        if not text.startswith("{"):
            continue
        try:
            entry = json.loads(text)
        except ValueError:
            continue
        ident = str(entry.get("SYSLOG_IDENTIFIER", ""))
        if not ident.startswith("postfix"):  # postfix, postfix/smtpd, postfix/submission/smtpd, ...
            continue
        try:
            if int(entry.get("__REALTIME_TIMESTAMP", 0)) < since_us:
                continue
            priority = int(entry.get("PRIORITY", 6))
        except (TypeError, ValueError):
            continue
        message = entry.get("MESSAGE", "")
        if isinstance(message, list):  # journald gives bytes as a list of ints
            message = bytes(message).decode("utf-8", "replace")
        if priority <= ERROR_PRIORITY or _SEVERITY_RE.search(message):
            found.append(f"{ident}: {message}")
    return found


def probe_address(inet_interfaces: str) -> str:
    """An address the local SMTP listener answers on, given the value of inet_interfaces."""
    items = [i for i in re.split(r"[\s,]+", inet_interfaces.strip().lower()) if i]
    if not items or "all" in items or "loopback-only" in items or "localhost" in items:
        return "127.0.0.1"
    for item in items:
        if item in ("127.0.0.1", "[::1]", "::1"):
            return "127.0.0.1" if item == "127.0.0.1" else "::1"
    for item in items:
        if re.fullmatch(r"\d+\.\d+\.\d+\.\d+", item):
            return item
    return items[0].strip("[]")


def queue_size(queue_directory: str) -> int:
    """Messages in the queue, counted on disk (works whether Postfix runs or not)."""
    count = 0
    for queue in QUEUES:
        for _root, _dirs, files in os.walk(os.path.join(queue_directory, queue)):
            count += len(files)
    return count
