"""The mailhost_facts module: platform, packages, paths and services in one call."""

from __future__ import annotations

import hashlib
import os
import subprocess

from ansible.module_utils import basic

from ansible_collections.mailops.mailhost.plugins.modules import mailhost_facts


def test_packages_paths_and_services(postfix_env, run_module, tmp_path):
    postfix_env.responses["dpkg-query"] = (1, "postfix install ok installed\nsendmail unknown ok not-installed\n", "")
    postfix_env.responses["systemctl show"] = (
        0,
        "ActiveState=active\nUnitFileState=enabled\n\nActiveState=inactive\nUnitFileState=\n",
        "",
    )
    present = tmp_path / "here"
    present.write_text("")
    out = run_module(
        mailhost_facts,
        {
            "packages": ["postfix", "sendmail"],
            "paths": [str(present), str(tmp_path / "gone")],
            "services": ["postfix", "opendkim"],
        },
    )
    assert not out.failed, out.result
    assert out.result["packages"] == {"postfix": True, "sendmail": False}
    assert out.result["missing_packages"] == ["sendmail"]
    assert out.result["paths"] == {str(present): True, str(tmp_path / "gone"): False}
    assert out.result["services"] == {
        "postfix": {"active": True, "enabled": True},
        "opendkim": {"active": False, "enabled": False},
    }
    assert out.result["ansible_facts"]["os_family"] in ("Debian", "RedHat", "unknown")
    assert out.result["changed"] is False


def test_digests_texts_and_dkim_public_keys(run_module, tmp_path, monkeypatch, rsa_key):
    """Files described by digest, mode and owner (never content), config texts, and DKIM public keys (real openssl)."""

    def run(self, argv, environ_update=None, data=None, **_kw):
        proc = subprocess.run(argv, input=data, capture_output=True, text=True, check=False)
        return proc.returncode, proc.stdout, proc.stderr

    monkeypatch.setattr(basic.AnsibleModule, "run_command", run)
    secret = tmp_path / "KeyTable"
    secret.write_text("secret table\n")
    os.chmod(secret, 0o640)
    key = tmp_path / "s1.private"
    key.write_text(rsa_key(2048))
    main = tmp_path / "main.cf"
    main.write_text("myhostname = mx.example.com\n")
    out = run_module(
        mailhost_facts,
        {"digests": [str(secret), str(tmp_path / "none")], "contents": [str(main)], "dkim_keys": [str(key)]},
    )
    assert not out.failed, out.result
    described = out.result["files"][str(secret)]
    assert described["sha256"] == hashlib.sha256(b"secret table\n").hexdigest() and described["mode"] == "0640"
    assert out.result["files"][str(tmp_path / "none")] == {"exists": False}
    assert "secret table" not in str(out.result)
    assert out.result["texts"] == {str(main): "myhostname = mx.example.com\n"}
    dkim = out.result["dkim"][str(key)]
    assert dkim["kind"] == "rsa" and dkim["bits"] == 2048 and dkim["public_key"].startswith("MIIB")
    assert "PRIVATE" not in str(out.result)
