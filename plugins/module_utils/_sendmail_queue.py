# Copyright: mailops.mailhost contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""sendmail's queue files read as messages: envelope sender, the recipients still to deliver, the text.

A queued message is a qf file (envelope and headers) and a df file (the body) with the same id.
The recipients still to deliver are its R lines (``R<flags>:<address>``), already expanded by
sendmail; a program or file recipient is handed over as the address it was expanded from (the
``r`` ORCPT line before it), since only an address can be given to another MTA. Headers whose
text still holds sendmail macros (``H?P?Return-Path: <$g>``, added at delivery) are dropped;
the others keep their text without the ``?flags?`` prefix.
"""

from __future__ import annotations

import os
import re

QF_RE = re.compile(r"^qf([A-Za-z0-9]+)$")
_MACRO = re.compile(r"[\x80-\x9f]")


def queue_ids(directory: str) -> list[str]:
    try:
        names = os.listdir(directory)
    except OSError:
        return []
    return sorted(m.group(1) for m in (QF_RE.match(n) for n in names) if m)


def parse_qf(data: bytes) -> dict:
    """sender, recipients (to hand over), headers (bytes) and problems of one qf file."""
    lines = data.decode("latin-1").split("\n")
    sender, recipients, problems = None, [], []
    headers: list[str] = []
    orcpt = None
    current_header = None
    for line in lines:
        if current_header is not None and line[:1] in (" ", "\t"):
            headers[-1] += "\n" + line
            continue
        current_header = None
        if line.startswith("S"):
            sender = line[1:].strip()
            if sender == "<>":
                sender = ""
        elif line.startswith("r"):
            _type, _sep, value = line[1:].partition(";")
            orcpt = value.strip()
        elif line.startswith("R"):
            _flags, sep, address = line[1:].partition(":")
            address = address.strip() if sep else line[1:].strip()
            if address.startswith('"|') or address.startswith("|") or address.startswith("/"):
                if orcpt:
                    recipients.append(orcpt)
                else:
                    problems.append(f"the recipient {address} is a program or file with no address it came from")
            else:
                recipients.append(address)
            orcpt = None
        elif line.startswith("H"):
            match = re.match(r"^H\?([^?]*)\?(.*)$", line)
            text = match.group(2) if match else line[1:]
            headers.append(text)
            current_header = True
        elif line == ".":
            break
    kept = [h for h in headers if not _MACRO.search(h) and "$" not in h.split(":", 1)[0]]
    return {
        "sender": sender,
        "recipients": list(dict.fromkeys(recipients)),
        "headers": ("\n".join(kept) + "\n").encode("latin-1") if kept else b"",
        "problems": problems if sender is not None else problems + ["the qf file has no S (sender) line"],
    }


def qualify(address: str, hostname: str) -> str:
    """A bare local recipient (``bob``) as ``bob@hostname``: the host name is always one of Postfix's local domains."""
    return address if "@" in address else f"{address}@{hostname}"


def message_text(headers: bytes, body: bytes) -> bytes:
    return headers + b"\n" + body
