# Copyright: mailops.mailhost contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the postfix role derives from its variables: main.cf parameters, master.cf services,
the lookup tables and the policy's options, computed in Python.

The role's vars/main.yml asks for it in one filter call (mailops.mailhost.postfix_derived) and
the pre-flight calls it directly with the values it resolved: one computation per host instead of
about a hundred Jinja templates, each compiled again wherever another value refers to it. No host
is needed; nothing here runs a command or touches a file.
"""

from __future__ import annotations

from ansible.module_utils.parsing.convert_bool import boolean

# The role's constants that this computation reads (defined once, in roles/postfix/vars/main.yml).
CONSTANTS = (
    "__postfix_selfsigned_chain",
    "__postfix_maps_dir",
    "__postfix_probe_local",
    "__postfix_probe_hold_class",
)
# The platform's data (roles/postfix/vars/<platform>.yml and host_<platform>.yml).
PLATFORM = (
    "__postfix_os_default_database_type",
    "__postfix_os_cache_database_type",
    "__postfix_os_compatibility_level",
    "__postfix_os_ca_file",
)
# The role's public variables it reads (each in meta/argument_specs.yml).
VARIABLES = (
    "postfix_aliases",
    "postfix_allow_percent_hack",
    "postfix_allow_untrusted_routing",
    "postfix_client_access",
    "postfix_disable_vrfy_command",
    "postfix_generic",
    "postfix_header_size_limit",
    "postfix_inet_interfaces",
    "postfix_inet_protocols",
    "postfix_main_cf",
    "postfix_masquerade_domains",
    "postfix_message_size_limit",
    "postfix_milters",
    "postfix_mydestination",
    "postfix_mydomain",
    "postfix_myhostname",
    "postfix_mynetworks",
    "postfix_mynetworks_allow_wide",
    "postfix_mynetworks_prefix_limit_ipv4",
    "postfix_mynetworks_prefix_limit_ipv6",
    "postfix_myorigin",
    "postfix_probe",
    "postfix_probe_dkim",
    "postfix_recipient_access",
    "postfix_relayhost",
    "postfix_sasl_enabled",
    "postfix_sasl_path",
    "postfix_sasl_type",
    "postfix_sender_access",
    "postfix_smtp_tls_security_level",
    "postfix_smtpd_banner",
    "postfix_smtpd_client_connection_count_limit",
    "postfix_smtpd_client_connection_rate_limit",
    "postfix_smtpd_helo_required",
    "postfix_smtpd_helo_restrictions",
    "postfix_smtpd_recipient_limit",
    "postfix_smtpd_recipient_restrictions",
    "postfix_smtpd_relay_restrictions",
    "postfix_smtpd_sender_restrictions",
    "postfix_smtpd_tls_security_level",
    "postfix_smtps_enabled",
    "postfix_submission_enabled",
    "postfix_submission_options",
    "postfix_swap_bangpath",
    "postfix_tls_chain_files",
    "postfix_tls_cipherlist",
    "postfix_tls_protocols",
    "postfix_transport",
    "postfix_virtual_alias_domains",
    "postfix_virtual_aliases",
)
INPUTS = CONSTANTS + PLATFORM + VARIABLES

# Parameter -> the variable a user sets it through, for error messages.
PARAM_VARIABLES = {
    "mynetworks": "postfix_mynetworks",
    "mynetworks_style": "postfix_main_cf.mynetworks_style",
    "smtpd_relay_restrictions": "postfix_smtpd_relay_restrictions",
    "smtpd_recipient_restrictions": "postfix_smtpd_recipient_restrictions",
    "smtpd_tls_security_level": "postfix_smtpd_tls_security_level",
    "smtp_tls_security_level": "postfix_smtp_tls_security_level",
    "smtpd_tls_protocols": "postfix_tls_protocols",
    "smtpd_tls_mandatory_protocols": "postfix_tls_protocols",
    "smtp_tls_protocols": "postfix_tls_protocols",
    "smtp_tls_mandatory_protocols": "postfix_tls_protocols",
    "submission/inet/*": "postfix_submission_options",
    "smtps/inet/*": "postfix_submission_options",
}
for _service in ("submission", "smtps"):
    for _param in (
        "smtpd_tls_security_level",
        "smtpd_relay_restrictions",
        "smtpd_recipient_restrictions",
        "smtpd_tls_auth_only",
    ):
        PARAM_VARIABLES[f"{_service}/inet/{_param}"] = f"postfix_submission_options.{_param}"

# The lookup tables in /etc/postfix: file name -> the variable that holds its entries.
TABLES = (
    ("client_access", "postfix_client_access"),
    ("generic", "postfix_generic"),
    ("recipient_access", "postfix_recipient_access"),
    ("sender_access", "postfix_sender_access"),
    ("transport", "postfix_transport"),
    ("virtual", "postfix_virtual_aliases"),
)


class MissingInput(KeyError):
    """An input the computation needs was not given (its name is the argument)."""


def _flag(value) -> bool:
    return boolean(value, strict=False)


def _list(v: dict, name: str) -> list:
    """A list the computation extends (a string would be taken apart letter by letter)."""
    value = v[name]
    if value is None:
        return []
    if isinstance(value, (str, bytes)) or not isinstance(value, (list, tuple)):
        raise TypeError(f"{name} must be a list, not {type(value).__name__}")
    return list(value)


def _dict(v: dict, name: str) -> dict:
    """A mapping the computation merges into."""
    value = v[name]
    if value is None:
        return {}
    if not hasattr(value, "items"):
        raise TypeError(f"{name} must be a dict, not {type(value).__name__}")
    return dict(value.items())


def derive(given) -> dict:
    """Everything the postfix role derives from INPUTS (a mapping with each of them).

    Returns: selfsigned_chain, tls_chain_files, selfsigned {key, cert, name}, uses_lmdb,
    map_type, table, maps (the postconf module's tables), probe_dkim, params (main.cf, before
    formatting), submission_options, smtps_options, services (master.cf -o overrides),
    policy_names, policy_options.
    """
    missing = [name for name in INPUTS if name not in given]
    if missing:
        raise MissingInput(", ".join(missing))
    v = {name: given[name] for name in INPUTS}
    chain = _list(v, "__postfix_selfsigned_chain")
    map_type = v["__postfix_os_default_database_type"]
    maps_dir = v["__postfix_maps_dir"]
    table = f"{map_type}:{maps_dir}"
    uses_lmdb = "lmdb" in (map_type, v["__postfix_os_cache_database_type"])
    probe = _flag(v["postfix_probe"])
    sasl = _flag(v["postfix_sasl_enabled"])
    milters = v["postfix_milters"]
    hold_class = v["__postfix_probe_hold_class"]
    local = v["__postfix_probe_local"]

    probe_dkim = [{"domain": r["domain"], "public_key": r["public_key"]} for r in _list(v, "postfix_probe_dkim")]
    probe_senders = {}
    if probe:
        for domain in [v["postfix_myhostname"], *(r["domain"] for r in probe_dkim)]:
            probe_senders[f"{local}@{domain}"] = hold_class
    probe_aliases = {local: "/dev/null"} if probe else {}

    maps = []
    for name, source in TABLES:
        # the postconf module checks each table's entries; only the one merged into is checked here
        entries = {**_dict(v, source), **probe_senders} if source == "postfix_sender_access" else v[source]
        maps.append({"path": f"{maps_dir}/{name}", "type": map_type, "entries": entries, "source": source})
    maps.append(
        {
            "path": "/etc/aliases",
            "type": map_type,
            "alias": True,
            "entries": {**_dict(v, "postfix_aliases"), **probe_aliases},
            "source": "postfix_aliases",
        }
    )

    tls_chain_files = v["postfix_tls_chain_files"] if v["postfix_tls_chain_files"] else chain
    protocols = v["postfix_tls_protocols"]
    cache_type = v["__postfix_os_cache_database_type"]
    params = {
        "compatibility_level": v["__postfix_os_compatibility_level"],
        "myhostname": v["postfix_myhostname"],
        "mydomain": v["postfix_mydomain"],
        "myorigin": v["postfix_myorigin"],
        "mydestination": v["postfix_mydestination"],
        "mynetworks": v["postfix_mynetworks"],
        "inet_interfaces": v["postfix_inet_interfaces"],
        "inet_protocols": v["postfix_inet_protocols"],
        "relayhost": v["postfix_relayhost"],
        "smtpd_relay_restrictions": v["postfix_smtpd_relay_restrictions"],
        "smtpd_recipient_restrictions": [
            *_list(v, "postfix_smtpd_recipient_restrictions"),
            f"check_recipient_access {table}/recipient_access",
        ],
        "smtpd_client_restrictions": [f"check_client_access {table}/client_access"],
        "smtpd_helo_restrictions": v["postfix_smtpd_helo_restrictions"],
        "smtpd_sender_restrictions": [
            f"check_sender_access {table}/sender_access",
            *_list(v, "postfix_smtpd_sender_restrictions"),
        ],
        "smtpd_data_restrictions": ["reject_unauth_pipelining"],
        "disable_vrfy_command": v["postfix_disable_vrfy_command"],
        "smtpd_helo_required": v["postfix_smtpd_helo_required"],
        "smtpd_banner": v["postfix_smtpd_banner"],
        "allow_percent_hack": v["postfix_allow_percent_hack"],
        "swap_bangpath": v["postfix_swap_bangpath"],
        "allow_untrusted_routing": v["postfix_allow_untrusted_routing"],
        "message_size_limit": v["postfix_message_size_limit"],
        "header_size_limit": v["postfix_header_size_limit"],
        "smtpd_recipient_limit": v["postfix_smtpd_recipient_limit"],
        "smtpd_client_connection_count_limit": v["postfix_smtpd_client_connection_count_limit"],
        "smtpd_client_connection_rate_limit": v["postfix_smtpd_client_connection_rate_limit"],
        "biff": False,
        "append_dot_mydomain": False,
        "readme_directory": False,
        "recipient_delimiter": "+",
        "alias_maps": f"{map_type}:/etc/aliases",
        "alias_database": f"{map_type}:/etc/aliases",
        "virtual_alias_maps": f"{table}/virtual",
        "virtual_alias_domains": v["postfix_virtual_alias_domains"],
        "smtp_generic_maps": f"{table}/generic",
        "masquerade_domains": v["postfix_masquerade_domains"],
        "transport_maps": f"{table}/transport",
        "smtpd_tls_security_level": v["postfix_smtpd_tls_security_level"],
        "smtpd_tls_chain_files": tls_chain_files,
        "smtpd_tls_protocols": protocols,
        "smtpd_tls_mandatory_protocols": protocols,
        "smtpd_tls_ciphers": "medium",
        "smtpd_tls_mandatory_ciphers": "medium",
        "smtpd_tls_auth_only": True,
        "smtpd_tls_loglevel": 1,
        "smtpd_tls_received_header": True,
        "smtpd_tls_session_cache_database": f"{cache_type}:${{data_directory}}/smtpd_scache",
        "smtp_tls_security_level": v["postfix_smtp_tls_security_level"],
        "smtp_tls_protocols": protocols,
        "smtp_tls_mandatory_protocols": protocols,
        "smtp_tls_ciphers": "medium",
        "smtp_tls_mandatory_ciphers": "medium",
        "smtp_tls_loglevel": 1,
        "smtp_tls_CAfile": v["__postfix_os_ca_file"],
        "smtp_tls_session_cache_database": f"{cache_type}:${{data_directory}}/smtp_scache",
        "tls_medium_cipherlist": v["postfix_tls_cipherlist"],
        "tls_preempt_cipherlist": False,
    }
    # Where tables are LMDB (AlmaLinux 10), Postfix's own default says so too, so that a table a
    # user names without a type (postmap FILE, $default_database_type) is LMDB as well.
    if uses_lmdb:
        params["default_database_type"] = "lmdb"
    if sasl:
        params.update(
            smtpd_sasl_type=v["postfix_sasl_type"],
            smtpd_sasl_path=v["postfix_sasl_path"],
            smtpd_sasl_auth_enable=False,
            smtpd_sasl_security_options=["noanonymous", "noplaintext"],
            smtpd_sasl_tls_security_options=["noanonymous"],
            smtpd_sasl_authenticated_header=False,
        )
    if milters:
        params.update(
            smtpd_milters=milters, non_smtpd_milters=milters, milter_default_action="accept", milter_protocol=6
        )
    # The delivery probe: its senders are held (for loopback clients only) until the module has
    # read their signatures, then released to an alias that delivers to /dev/null.
    if probe:
        params["smtpd_restriction_classes"] = hold_class
        params[hold_class] = "check_client_access inline:{ 127.0.0.1=HOLD, ::1=HOLD }"
    main_cf = _dict(v, "postfix_main_cf")
    params.update(main_cf)

    submission = {
        "syslog_name": "postfix/submission",
        "smtpd_tls_security_level": "encrypt",
        "smtpd_tls_auth_only": "yes",
        "smtpd_sasl_auth_enable": "yes" if sasl else "no",
        "smtpd_relay_restrictions": "permit_sasl_authenticated,reject",
        "smtpd_recipient_restrictions": "permit_sasl_authenticated,reject",
        "milter_macro_daemon_name": "ORIGINATING",
        **_dict(v, "postfix_submission_options"),
    }
    smtps = {**submission, "syslog_name": "postfix/smtps", "smtpd_tls_wrappermode": "yes"}
    services = {}
    if _flag(v["postfix_submission_enabled"]):
        services["submission/inet"] = submission
    if _flag(v["postfix_smtps_enabled"]):
        services["smtps/inet"] = smtps

    return {
        "selfsigned_chain": chain,
        "tls_chain_files": tls_chain_files,
        "selfsigned": {"key": chain[0], "cert": chain[1], "name": v["postfix_myhostname"]},
        "uses_lmdb": uses_lmdb,
        "map_type": map_type,
        "table": table,
        "maps": maps,
        "probe_dkim": probe_dkim,
        "params": params,
        "submission_options": submission,
        "smtps_options": smtps,
        "services": services,
        "policy_names": {
            **PARAM_VARIABLES,
            **{str(name): f"postfix_main_cf.{name}" for name in main_cf},
        },
        "policy_options": {
            "mynetworks_prefix_limit_ipv4": v["postfix_mynetworks_prefix_limit_ipv4"],
            "mynetworks_prefix_limit_ipv6": v["postfix_mynetworks_prefix_limit_ipv6"],
            "mynetworks_allow_wide": v["postfix_mynetworks_allow_wide"],
        },
    }
