from __future__ import annotations

import os

import pytest
from conftest_common import podman_host, run_playbook

CONVERGE = os.path.join(os.path.dirname(__file__), "..", "converge.yml")


@pytest.fixture(scope="session")
def mx1():
    return podman_host("mx1")


@pytest.fixture(scope="session")
def outside():
    return podman_host("outside")


@pytest.fixture(scope="session")
def trusted():
    return podman_host("trusted")


@pytest.fixture(scope="session")
def converge():
    def _run(extra_vars=None, check=False):
        return run_playbook(CONVERGE, extra_vars, check=check, limit="mx1")

    return _run
