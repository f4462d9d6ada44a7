"""The ACME side of the certbot scenario, run on the controller.

  acme_server.py start STATE_DIR GATEWAY_IP MX_IP   Knot (A record of mx1) + Pebble on GATEWAY_IP:14000
  acme_server.py stop-pebble STATE_DIR              stop the ACME server only (to test failures)
  acme_server.py start-pebble STATE_DIR             start it again
  acme_server.py stop STATE_DIR                     stop everything

Pebble's HTTPS listener uses a test CA made here (ca.pem), which the mail host trusts.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import ssl
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from knot import Knot, soa  # tests/integration, on PYTHONPATH (set by prepare.yml)


def openssl(*args: str) -> None:
    subprocess.run(["openssl", *args], check=True, capture_output=True)


def make_certificates(state: Path, gateway: str) -> None:
    if (state / "server.pem").exists():
        return
    openssl(
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "30",
        "-subj",
        "/CN=mailhost test ACME CA",
        "-keyout",
        str(state / "ca.key"),
        "-out",
        str(state / "ca.pem"),
    )
    openssl(
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-subj",
        "/CN=acme.test",
        "-keyout",
        str(state / "server.key"),
        "-out",
        str(state / "server.csr"),
    )
    (state / "san.ext").write_text(f"subjectAltName=DNS:acme.test,IP:{gateway}\n")
    openssl(
        "x509",
        "-req",
        "-in",
        str(state / "server.csr"),
        "-CA",
        str(state / "ca.pem"),
        "-CAkey",
        str(state / "ca.key"),
        "-CAcreateserial",
        "-days",
        "30",
        "-extfile",
        str(state / "san.ext"),
        "-out",
        str(state / "server.pem"),
    )


def start_pebble(state: Path) -> None:
    config = json.loads((state / "config.json").read_text())
    env = dict(os.environ, PEBBLE_VA_NOSLEEP="1", PEBBLE_WFE_NONCEREJECT="0", PEBBLE_AUTHZREUSE="0")
    with open(state / "pebble.log", "a", encoding="utf-8") as log:  # the daemon keeps its own copy of the fd
        proc = subprocess.Popen(
            ["pebble", "-config", str(state / "pebble.json"), "-dnsserver", f"127.0.0.1:{config['dns_port']}"],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,
        )
    (state / "pebble.pid").write_text(str(proc.pid))
    context = ssl.create_default_context(cafile=str(state / "ca.pem"))
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"https://{config['gateway']}:14000/dir", context=context, timeout=2)
            return
        except OSError:
            time.sleep(0.3)
    raise SystemExit("pebble did not start: " + (state / "pebble.log").read_text()[-2000:])


def stop_pebble(state: Path) -> None:
    pidfile = state / "pebble.pid"
    if pidfile.exists():
        with contextlib.suppress(ProcessLookupError):
            os.kill(int(pidfile.read_text()), signal.SIGTERM)
        pidfile.unlink()


def main(argv: list[str]) -> None:
    command, state = argv[0], Path(argv[1])
    state.mkdir(parents=True, exist_ok=True)
    if command == "start":
        gateway, mx_ip = argv[2], argv[3]
        # A Pebble left by an aborted run of this scenario would hold the port.
        subprocess.run(["pkill", "-f", "pebble -config .*/acme/pebble.json"], check=False)
        time.sleep(0.5)
        make_certificates(state, gateway)
        zone = soa("example.test") + f"mx1.example.test. 60 IN A {mx_ip}\n"
        server = Knot({"example.test": zone})
        (state / "config.json").write_text(
            json.dumps(
                {"gateway": gateway, "dns_port": server.port, "knot_dir": str(server.dir), "knot_pid": server.proc.pid}
            )
        )
        (state / "pebble.json").write_text(
            json.dumps(
                {
                    "pebble": {
                        "listenAddress": f"{gateway}:14000",
                        "managementListenAddress": f"{gateway}:15000",
                        "certificate": str(state / "server.pem"),
                        "privateKey": str(state / "server.key"),
                        "httpPort": 80,
                        "tlsPort": 443,
                        "ocspResponderURL": "",
                        "externalAccountBindingRequired": False,
                    }
                }
            )
        )
        start_pebble(state)
    elif command == "start-pebble":
        start_pebble(state)
    elif command == "stop-pebble":
        stop_pebble(state)
    elif command == "stop":
        stop_pebble(state)
        config_file = state / "config.json"
        if config_file.exists():
            config = json.loads(config_file.read_text())
            subprocess.run(["knotc", "-c", f"{config['knot_dir']}/knot.conf", "stop"], capture_output=True, check=False)
            config_file.unlink()
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main(sys.argv[1:])
