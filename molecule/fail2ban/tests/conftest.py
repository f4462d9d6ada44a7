from __future__ import annotations

import os
import subprocess

import pytest
from conftest_common import podman_host

SHARED = os.path.join(os.path.dirname(__file__), "..", "..", "shared")


@pytest.fixture(scope="session")
def mx1():
    return podman_host("mx1")


@pytest.fixture(scope="session")
def outside():
    return podman_host("outside")


@pytest.fixture(scope="session")
def trusted():
    return podman_host("trusted")


def container_ip(name: str) -> str:
    return subprocess.run([f"{SHARED}/container-ip", name], capture_output=True, text=True, check=True).stdout.strip()
