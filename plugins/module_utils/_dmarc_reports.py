# Copyright: mailops.mailhost contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""DMARC aggregate (rua) reports: how much of a domain's mail passed DMARC with alignment.

Reads a directory of reports as receivers send them (.xml, .xml.gz / .gz, .zip), in the format of
RFC 7489 appendix C or its successor's namespace (namespaces are ignored). A message is aligned
when the receiver's policy_evaluated says dkim=pass or spf=pass: those are the DMARC-aligned results.

The standard library's ElementTree is used (expat refuses entity expansion bombs; no external
entity is ever fetched); every file is capped in size once uncompressed. parsedmarc was considered
and not used: it pulls in Elasticsearch, OpenSearch, Kafka, S3 and GeoIP clients and a mail
library, far more than a controller needs to sum a few counters.
"""

from __future__ import annotations

import gzip
import os
import zipfile
from xml.etree import ElementTree  # noqa: S405 - see the module docstring

MAX_BYTES = 20 * 1024 * 1024


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _child(node, name: str):
    for child in node:
        if _local(child.tag) == name:
            return child
    return None


def _text(node, *path: str) -> str:
    for name in path:
        if node is None:
            return ""
        node = _child(node, name)
    return (node.text or "").strip() if node is not None else ""


def _documents(path: str) -> list[tuple[str, bytes]]:
    """The XML documents in one file: (name, bytes)."""
    lower = path.lower()
    if lower.endswith(".zip"):
        found = []
        with zipfile.ZipFile(path) as archive:
            for info in archive.infolist():
                if info.filename.lower().endswith(".xml"):
                    if info.file_size > MAX_BYTES:
                        raise ValueError(f"{info.filename} is larger than {MAX_BYTES} bytes uncompressed")
                    found.append((f"{path}:{info.filename}", archive.read(info)))
        return found
    if lower.endswith(".gz"):
        with gzip.open(path, "rb") as handle:
            data = handle.read(MAX_BYTES + 1)
    elif lower.endswith(".xml"):
        with open(path, "rb") as handle:
            data = handle.read(MAX_BYTES + 1)
    else:
        return []
    if len(data) > MAX_BYTES:
        raise ValueError(f"larger than {MAX_BYTES} bytes uncompressed")
    return [(path, data)]


def parse_report(data: bytes) -> dict:
    """One aggregate report: org, id, begin, end, published domain and its rows."""
    root = ElementTree.fromstring(data)  # noqa: S314 - see the module docstring
    if _local(root.tag) != "feedback":
        raise ValueError(f"the root element is <{_local(root.tag)}>, not <feedback>")
    meta = _child(root, "report_metadata")
    rows = []
    for record in root:
        if _local(record.tag) != "record":
            continue
        try:
            count = int(_text(record, "row", "count") or "0")
        except ValueError:
            count = 0
        rows.append(
            {
                "source_ip": _text(record, "row", "source_ip"),
                "count": max(0, count),
                "dkim": _text(record, "row", "policy_evaluated", "dkim").lower(),
                "spf": _text(record, "row", "policy_evaluated", "spf").lower(),
                "header_from": _text(record, "identifiers", "header_from").lower().rstrip("."),
            }
        )
    try:
        begin = int(_text(meta, "date_range", "begin") or "0")
        end = int(_text(meta, "date_range", "end") or "0")
    except ValueError as exc:
        raise ValueError(f"date_range is not in seconds since the epoch: {exc}") from exc
    return {
        "org": _text(meta, "org_name"),
        "id": _text(meta, "report_id"),
        "begin": begin,
        "end": end,
        "domain": _text(root, "policy_published", "domain").lower().rstrip("."),
        "rows": rows,
    }


def summarize(directory: str, domain: str, days: int, now: float) -> dict:
    """Messages and aligned messages for ``domain`` in reports that end within the last ``days`` days."""
    domain = domain.lower().rstrip(".")
    since = now - days * 86400
    seen: set[tuple[str, str]] = set()
    summary = {
        "directory": directory,
        "days": days,
        "files": 0,
        "reports": 0,
        "messages": 0,
        "aligned": 0,
        "share": None,
        "failing_sources": {},
        "problems": [],
    }
    try:
        names = sorted(os.listdir(directory))
    except OSError as exc:
        summary["problems"].append(f"cannot read {directory}: {exc.strerror or exc}")
        return summary
    for name in names:
        path = os.path.join(directory, name)
        if not os.path.isfile(path):
            continue
        try:
            documents = _documents(path)
        except (OSError, ValueError, zipfile.BadZipFile, EOFError) as exc:
            summary["problems"].append(f"{name}: {exc}")
            continue
        if documents:
            summary["files"] += 1
        for label, data in documents:
            try:
                report = parse_report(data)
            except (ElementTree.ParseError, ValueError) as exc:
                summary["problems"].append(f"{os.path.basename(label)}: not an aggregate report ({exc})")
                continue
            key = (report["org"], report["id"])
            if report["end"] < since or (report["id"] and key in seen):
                continue
            seen.add(key)
            rows = [r for r in report["rows"] if r["header_from"] == domain]
            if not rows:
                continue
            summary["reports"] += 1
            for row in rows:
                summary["messages"] += row["count"]
                if row["dkim"] == "pass" or row["spf"] == "pass":
                    summary["aligned"] += row["count"]
                elif row["source_ip"]:
                    failing = summary["failing_sources"]
                    failing[row["source_ip"]] = failing.get(row["source_ip"], 0) + row["count"]
    if summary["messages"]:
        summary["share"] = round(100.0 * summary["aligned"] / summary["messages"], 2)
    top = sorted(summary["failing_sources"].items(), key=lambda kv: -kv[1])[:5]
    summary["failing_sources"] = dict(top)
    return summary
