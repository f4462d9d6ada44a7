"""The DKIM zone snippets on the controller: the text, when a snippet is (re)written, check mode.

The pure part (plugin_utils/_dkim_zone_files) directly; the action plugin run by ansible-playbook
itself over the local connection, so that check mode, diff and the argument errors are Ansible's.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import yaml

from ansible_collections.mailops.mailhost.plugins.plugin_utils._dkim_zone_files import (
    record_problems,
    zone_snippets,
)

LINE_A = 'a._domainkey.example.com. 3600 IN TXT ( "v=DKIM1; k=rsa; p=AAAA" )'
LINE_B = 'b._domainkey.example.com. 3600 IN TXT ( "v=DKIM1; k=rsa; p=BBBB" )'
LINE_N = 'n._domainkey.example.net. 3600 IN TXT ( "v=DKIM1; k=rsa; p=NNNN" )'
RECORDS = [
    {"domain": "example.com", "selector": "a", "bits": 2048, "signing": True, "zone_line": LINE_A},
    {"domain": "example.net", "selector": "n", "bits": 4096, "signing": True, "zone_line": LINE_N},
    {"domain": "example.com", "selector": "b", "bits": 2048, "signing": False, "zone_line": LINE_B},
]


def test_one_snippet_per_domain_with_every_selector():
    snippets = zone_snippets("mx1", RECORDS)
    assert list(snippets) == ["example.com", "example.net"]
    assert snippets["example.com"] == (
        "; DKIM records for example.com from mx1 (mailops.mailhost.opendkim).\n"
        '; Add these lines to the zone of example.com; the selector marked "signing" is in use.\n'
        "; a: 2048-bit RSA, signing\n"
        f"{LINE_A}\n"
        "; b: 2048-bit RSA, not signing yet\n"
        f"{LINE_B}\n"
    )
    assert "; n: 4096-bit RSA, signing\n" in snippets["example.net"]


def test_malformed_records_are_named():
    assert record_problems("x") == ["records: must be a list (the records the dkim_keys module returns)"]
    assert record_problems([{"domain": "example.com"}]) == ["records[0]: selector, bits, signing, zone_line missing"]
    bad = dict(RECORDS[0], domain="../etc")
    assert record_problems([bad]) == ["records[0].domain: '../etc' is not a domain name"]
    assert not record_problems(RECORDS)


def play(tmp_path, records, *extra, force=False):
    (tmp_path / "inventory.yml").write_text(
        yaml.safe_dump(
            {"all": {"hosts": {"mx1": {"ansible_connection": "local", "ansible_python_interpreter": sys.executable}}}}
        )
    )
    (tmp_path / "play.yml").write_text(
        yaml.safe_dump(
            [
                {
                    "hosts": "all",
                    "gather_facts": False,
                    "tasks": [
                        {
                            "name": "Snippets",
                            "mailops.mailhost.dkim_zone_files": {
                                "dir": str(tmp_path / "records"),
                                "records": records,
                                "force": force,
                            },
                        }
                    ],
                }
            ]
        )
    )
    env = dict(os.environ, ANSIBLE_STDOUT_CALLBACK="ansible.builtin.json")
    proc = subprocess.run(
        ["ansible-playbook", "-i", str(tmp_path / "inventory.yml"), str(tmp_path / "play.yml"), *extra],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert "{" in proc.stdout, proc.stdout + proc.stderr
    return json.loads(proc.stdout[proc.stdout.index("{") :])["plays"][0]["tasks"][0]["hosts"]["mx1"]


def test_written_when_missing_kept_otherwise_rewritten_with_force(tmp_path):
    com = tmp_path / "records" / "example.com.zone"
    # check mode: reported with its diff, nothing written (not even the directory)
    checked = play(tmp_path, RECORDS, "--check", "--diff")
    assert checked["changed"] and len(checked["files"]) == 2, checked
    assert any(LINE_A in d["after"] for d in checked["diff"])
    assert not (tmp_path / "records").exists()
    first = play(tmp_path, RECORDS)
    assert first["changed"] and sorted(first["files"]) == sorted([str(com), str(tmp_path / "records/example.net.zone")])
    assert oct(com.stat().st_mode & 0o777) == "0o644"
    assert play(tmp_path, RECORDS)["changed"] is False
    # another host's snippet for the same domain is kept, unless this host's keys changed
    other = [dict(r, zone_line=r["zone_line"].replace("p=", "p=X")) for r in RECORDS]
    assert play(tmp_path, other)["changed"] is False
    assert LINE_A in com.read_text()
    forced = play(tmp_path, other, force=True)
    assert forced["changed"] and "p=XAAAA" in com.read_text()
    assert play(tmp_path, other, force=True)["changed"] is False


def test_bad_arguments_name_the_argument(tmp_path):
    result = play(tmp_path, [{"domain": "example.com"}])
    assert result["failed"] and "records[0]: selector, bits, signing, zone_line missing" in result["msg"]
    assert not (tmp_path / "records").exists()
