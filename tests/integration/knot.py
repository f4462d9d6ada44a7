"""A real Knot DNS server for the tests and the benchmark: zones from Python, served on loopback."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from pathlib import Path


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def soa(origin: str) -> str:
    return (
        f"$ORIGIN {origin}.\n$TTL 60\n"
        f"@ IN SOA ns.{origin}. hostmaster.{origin}. 1 3600 600 86400 60\n"
        f"@ IN NS ns.{origin}.\nns.{origin}. IN A 127.0.0.1\n"
    )


class Knot:
    """knotd with its own config, zone files and control socket in a temporary directory."""

    def __init__(self, zones: dict[str, str]):
        self.dir = Path(tempfile.mkdtemp(prefix="mailhost-knot-"))
        (self.dir / "zones").mkdir()
        self.port = free_port()
        self.zones = dict(zones)
        for name, text in zones.items():
            self.write_zone(name, text)
        zone_list = "".join(f"  - domain: {name}\n" for name in zones)
        (self.dir / "knot.conf").write_text(
            f"server:\n    listen: 127.0.0.1@{self.port}\n    rundir: {self.dir}\n"
            f"log:\n  - target: stderr\n    any: critical\n"
            f"database:\n    storage: {self.dir}\n"
            f"control:\n    listen: {self.dir}/knot.sock\n"
            f'template:\n  - id: default\n    storage: {self.dir}/zones\n    file: "%s.zone"\n'
            f"    semantic-checks: off\n    zonefile-sync: -1\n    zonefile-load: whole\n    journal-content: none\n"
            f"zone:\n{zone_list}"
        )
        knotd = shutil.which("knotd") or "/usr/sbin/knotd"
        # Its own session: a server started by a short-lived helper (an Ansible task) outlives it.
        self.proc = subprocess.Popen(
            [knotd, "-c", str(self.dir / "knot.conf")], stderr=subprocess.PIPE, text=True, start_new_session=True
        )
        self._wait_ready()

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"knotd exited: {self.proc.stderr.read()}")
            if self.knotc("status").returncode == 0:
                return
            time.sleep(0.1)
        raise RuntimeError("knotd did not start")

    def knotc(self, *args: str) -> subprocess.CompletedProcess:
        knotc = shutil.which("knotc") or "/usr/sbin/knotc"
        return subprocess.run(
            [knotc, "-c", str(self.dir / "knot.conf"), *args], capture_output=True, text=True, check=False
        )

    def write_zone(self, name: str, text: str) -> None:
        self.zones[name] = text
        (self.dir / "zones" / f"{name}.zone").write_text(text)

    def zone_for(self, owner: str) -> str:
        owner = owner.rstrip(".").lower()
        matches = [z for z in self.zones if owner == z or owner.endswith("." + z)]
        return max(matches, key=len)

    def publish(self, lines: list[str]) -> None:
        """Apply zone-file lines as an administrator would: replace owner+type, then reload."""
        touched = set()
        for line in lines:
            if line.startswith(";"):
                continue
            owner, _ttl, _cls, rdtype = line.split()[:4]
            zone = self.zone_for(owner)
            if (owner, rdtype) not in touched:
                kept = [
                    entry
                    for entry in self.zones[zone].splitlines()
                    if not (entry.split()[:1] == [owner] and rdtype in entry.split()[1:4])
                ]
                self.zones[zone] = "\n".join(kept) + "\n"
                touched.add((owner, rdtype))
            self.write_zone(zone, self.zones[zone] + line + "\n")
            result = self.knotc("zone-reload", zone)
            assert result.returncode == 0, result.stdout + result.stderr
        time.sleep(0.3)

    def stop(self) -> None:
        self.knotc("stop")
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        shutil.rmtree(self.dir, ignore_errors=True)


class BlackHole:
    """A UDP 'DNS server' that receives queries and never answers."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.sock.settimeout(0.2)
        self.running = True
        self.thread = threading.Thread(target=self._drain, daemon=True)
        self.thread.start()

    def _drain(self) -> None:
        while self.running:
            try:
                self.sock.recv(4096)
            except OSError:
                continue

    def stop(self) -> None:
        self.running = False
        self.thread.join(timeout=2)
        self.sock.close()


if __name__ == "__main__" and os.environ.get("KNOT_SMOKE"):
    server = Knot({"smoke.test": soa("smoke.test")})
    print("knot on port", server.port)
    server.stop()
