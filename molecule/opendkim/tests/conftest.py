from __future__ import annotations

import os
import re

import pytest
from conftest_common import converge, mx1
from knot import Knot, soa

__all__ = ["converge", "dns", "mx1"]

RECORDS = os.path.join(os.environ.get("MOLECULE_EPHEMERAL_DIRECTORY", "/nonexistent"), "dkim-records")


def zone_lines(domain: str, only_signing: bool = False) -> list[str]:
    """The TXT lines the role wrote for a domain (optionally only the selector that signs)."""
    with open(os.path.join(RECORDS, f"{domain}.zone"), encoding="utf-8") as handle:
        text = handle.read()
    lines, signing = [], False
    for line in text.splitlines():
        if line.startswith("; s"):
            signing = line.rstrip().endswith(", signing")
        elif line and not line.startswith(";") and (signing or not only_signing):
            lines.append(line)
    return lines


@pytest.fixture(scope="module")
def dns():
    """Knot serving example.test and example.org with the signing selectors' records."""
    zones = {d: soa(d) + "\n".join(zone_lines(d, only_signing=True)) + "\n" for d in ("example.test", "example.org")}
    server = Knot(zones)
    yield server
    server.stop()


def last_message(mailbox: str) -> bytes:
    """The last message of an mbox file, without its 'From ' separator line."""
    messages = re.split(r"^From \S+ .*\n", mailbox, flags=re.MULTILINE)
    return messages[-1].encode()
