"""The mailhost_facts module: platform, packages, paths and services in one call."""

from __future__ import annotations

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
