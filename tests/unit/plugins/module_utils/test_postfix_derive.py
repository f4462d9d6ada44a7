"""What the postfix role derives from its variables (module_utils/_postfix_derive.py), in Python.

The role's own rendering of the same values on each platform is checked in tests/unit/roles."""

from __future__ import annotations

import pytest

from ansible_collections.mailops.mailhost.plugins.module_utils._postfix_derive import (
    INPUTS,
    MissingInput,
    derive,
)

DEBIAN = {
    "__postfix_os_default_database_type": "hash",
    "__postfix_os_cache_database_type": "btree",
    "__postfix_os_compatibility_level": "3.6",
    "__postfix_os_ca_file": "/etc/ssl/certs/ca-certificates.crt",
}
EL10 = {**DEBIAN, "__postfix_os_default_database_type": "lmdb", "__postfix_os_cache_database_type": "lmdb"}
CONSTANTS = {
    "__postfix_selfsigned_chain": ["/etc/postfix/self.key", "/etc/postfix/self.crt"],
    "__postfix_maps_dir": "/etc/postfix",
    "__postfix_probe_local": "mailhost-probe",
    "__postfix_probe_hold_class": "mailhost_probe_hold",
}
LISTS = ("postfix_mydestination", "postfix_mynetworks", "postfix_smtpd_relay_restrictions",
         "postfix_smtpd_recipient_restrictions", "postfix_smtpd_helo_restrictions", "postfix_smtpd_sender_restrictions",
         "postfix_tls_chain_files", "postfix_milters", "postfix_probe_dkim", "postfix_inet_interfaces",
         "postfix_virtual_alias_domains", "postfix_masquerade_domains", "postfix_tls_protocols")  # fmt: skip
DICTS = ("postfix_aliases", "postfix_client_access", "postfix_generic", "postfix_recipient_access",
         "postfix_sender_access", "postfix_transport", "postfix_virtual_aliases", "postfix_main_cf",
         "postfix_submission_options")  # fmt: skip


def inputs(platform=None, **given) -> dict:
    values = {name: None for name in INPUTS}
    values.update({name: [] for name in LISTS}, **{name: {} for name in DICTS})
    values.update(CONSTANTS, **(platform or DEBIAN))
    values.update(
        postfix_myhostname="mx1.example.com",
        postfix_mydomain="example.com",
        postfix_smtpd_recipient_restrictions=["permit_mynetworks", "reject_unauth_destination"],
        postfix_smtpd_sender_restrictions=["reject_non_fqdn_sender"],
        postfix_probe=False,
        postfix_sasl_enabled=False,
        postfix_submission_enabled=True,
        postfix_smtps_enabled=False,
        postfix_sasl_type="dovecot",
        postfix_sasl_path="private/auth",
    )
    values.update(given)
    return values


def test_a_missing_input_is_named():
    values = inputs()
    del values["postfix_myhostname"], values["__postfix_os_ca_file"]
    with pytest.raises(MissingInput) as caught:
        derive(values)
    assert caught.value.args[0] == "__postfix_os_ca_file, postfix_myhostname"


@pytest.mark.parametrize("name", ["postfix_smtpd_recipient_restrictions", "postfix_smtpd_sender_restrictions"])
def test_a_restriction_list_given_as_text_is_refused_naming_it(name):
    # extending it letter by letter would write a broken restriction list
    with pytest.raises(TypeError, match=f"^{name} must be a list, not str$"):
        derive(inputs(**{name: "permit_mynetworks, reject"}))


@pytest.mark.parametrize("name", ["postfix_main_cf", "postfix_submission_options", "postfix_sender_access"])
def test_a_mapping_given_as_a_list_is_refused_naming_it(name):
    with pytest.raises(TypeError, match=f"^{name} must be a dict, not list$"):
        derive(inputs(**{name: ["a", "b"]}))


def test_the_tables_and_the_restrictions_name_the_platforms_table_type():
    out = derive(inputs())
    assert out["table"] == "hash:/etc/postfix"
    assert out["params"]["smtpd_recipient_restrictions"] == [
        "permit_mynetworks",
        "reject_unauth_destination",
        "check_recipient_access hash:/etc/postfix/recipient_access",
    ]
    assert out["params"]["smtpd_sender_restrictions"] == [
        "check_sender_access hash:/etc/postfix/sender_access",
        "reject_non_fqdn_sender",
    ]
    assert out["params"]["alias_maps"] == "hash:/etc/aliases"
    assert out["params"]["smtpd_tls_session_cache_database"] == "btree:${data_directory}/smtpd_scache"
    assert [m["path"] for m in out["maps"]][-1] == "/etc/aliases"
    assert {m["type"] for m in out["maps"]} == {"hash"}
    assert "default_database_type" not in out["params"]
    assert out["uses_lmdb"] is False


def test_lmdb_platforms_make_lmdb_postfixs_default_too():
    out = derive(inputs(EL10))
    assert out["params"]["default_database_type"] == "lmdb"
    assert out["params"]["smtp_tls_session_cache_database"] == "lmdb:${data_directory}/smtp_scache"
    assert {m["type"] for m in out["maps"]} == {"lmdb"}
    assert out["uses_lmdb"] is True


def test_without_a_certificate_the_self_signed_pair_keeps_tls_on():
    out = derive(inputs())
    assert out["params"]["smtpd_tls_chain_files"] == CONSTANTS["__postfix_selfsigned_chain"]
    assert out["selfsigned"] == {
        "key": "/etc/postfix/self.key",
        "cert": "/etc/postfix/self.crt",
        "name": "mx1.example.com",
    }
    given = derive(inputs(postfix_tls_chain_files=["/etc/letsencrypt/k", "/etc/letsencrypt/c"]))
    assert given["params"]["smtpd_tls_chain_files"] == ["/etc/letsencrypt/k", "/etc/letsencrypt/c"]


def test_the_probe_holds_its_senders_for_each_signing_domain_and_delivers_to_dev_null():
    records = [{"domain": "example.org", "public_key": "MIIB", "selector": "s1"}]
    out = derive(inputs(postfix_probe=True, postfix_probe_dkim=records, postfix_sender_access={"spam@x": "REJECT"}))
    sender = next(m for m in out["maps"] if m["source"] == "postfix_sender_access")
    assert sender["entries"] == {
        "spam@x": "REJECT",
        "mailhost-probe@mx1.example.com": "mailhost_probe_hold",
        "mailhost-probe@example.org": "mailhost_probe_hold",
    }
    aliases = next(m for m in out["maps"] if m["source"] == "postfix_aliases")
    assert aliases["alias"] is True and aliases["entries"] == {"mailhost-probe": "/dev/null"}
    assert out["params"]["smtpd_restriction_classes"] == "mailhost_probe_hold"
    assert out["params"]["mailhost_probe_hold"] == "check_client_access inline:{ 127.0.0.1=HOLD, ::1=HOLD }"
    assert out["probe_dkim"] == [{"domain": "example.org", "public_key": "MIIB"}]


def test_without_the_probe_nothing_of_it_is_written():
    out = derive(inputs(postfix_probe="no"))
    assert "smtpd_restriction_classes" not in out["params"]
    assert all("mailhost-probe" not in str(m["entries"]) for m in out["maps"])


@pytest.mark.parametrize("flag", [False, "no", "false", 0])
def test_sasl_off_in_any_spelling_writes_no_sasl_parameter(flag):
    out = derive(inputs(postfix_sasl_enabled=flag))
    assert not [name for name in out["params"] if name.startswith("smtpd_sasl")]
    assert out["submission_options"]["smtpd_sasl_auth_enable"] == "no"


def test_sasl_on_authenticates_only_on_submission():
    out = derive(inputs(postfix_sasl_enabled="yes"))
    assert out["params"]["smtpd_sasl_auth_enable"] is False  # not on port 25
    assert out["params"]["smtpd_sasl_path"] == "private/auth"
    assert out["params"]["smtpd_sasl_security_options"] == ["noanonymous", "noplaintext"]
    assert out["submission_options"]["smtpd_sasl_auth_enable"] == "yes"


def test_milters_are_written_only_when_given():
    assert "smtpd_milters" not in derive(inputs())["params"]
    out = derive(inputs(postfix_milters=["inet:localhost:8891"]))["params"]
    assert out["smtpd_milters"] == out["non_smtpd_milters"] == ["inet:localhost:8891"]
    assert out["milter_default_action"] == "accept"


def test_postfix_main_cf_comes_last_and_its_entries_are_named_in_the_policys_messages():
    out = derive(inputs(postfix_main_cf={"smtpd_banner": "$myhostname", "mynetworks_style": "host"}))
    assert out["params"]["smtpd_banner"] == "$myhostname"
    assert list(out["params"])[-1] == "mynetworks_style"
    assert out["policy_names"]["smtpd_banner"] == "postfix_main_cf.smtpd_banner"
    assert out["policy_names"]["mynetworks"] == "postfix_mynetworks"
    assert out["policy_names"]["smtps/inet/smtpd_tls_auth_only"] == "postfix_submission_options.smtpd_tls_auth_only"


def test_submission_and_smtps_services_follow_their_switches():
    out = derive(inputs(postfix_submission_options={"smtpd_tls_security_level": "may"}))
    assert list(out["services"]) == ["submission/inet"]
    assert out["services"]["submission/inet"]["smtpd_tls_security_level"] == "may"  # the policy refuses it later
    both = derive(inputs(postfix_smtps_enabled="true", postfix_submission_enabled=False))
    assert list(both["services"]) == ["smtps/inet"]
    assert both["services"]["smtps/inet"]["smtpd_tls_wrappermode"] == "yes"
    assert both["services"]["smtps/inet"]["syslog_name"] == "postfix/smtps"
