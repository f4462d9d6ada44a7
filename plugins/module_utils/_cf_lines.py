# Copyright: mailops.mailhost contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Postfix's configuration files (main.cf and master.cf) as logical lines.

Both files continue a line on the next one when it starts with whitespace, and skip comments
and empty lines (postconf(5), master(5)).
"""

from __future__ import annotations


def logical_lines(text: str) -> list[tuple[int, int, str]]:
    """Yield (first line index, last line index, joined text) of each parameter."""
    lines = text.splitlines()
    result: list[tuple[int, int, str]] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        stripped = line.strip()
        if not stripped or stripped.startswith("#") or line[0].isspace():
            i += 1
            continue
        start = i
        parts = [stripped]
        i += 1
        while i < len(lines) and lines[i][:1].isspace() and lines[i].strip() and not lines[i].strip().startswith("#"):
            parts.append(lines[i].strip())
            i += 1
        result.append((start, i - 1, " ".join(parts)))
    return result
