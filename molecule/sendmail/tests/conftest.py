"""Fixtures of the sendmail migration scenario."""

from __future__ import annotations

import pytest
from conftest_common import outside, podman_host, trusted

__all__ = ["outside", "relay2", "smarthost", "smhost", "trusted"]


@pytest.fixture(scope="session")
def smhost():
    return podman_host("smhost")


@pytest.fixture(scope="session")
def relay2():
    return podman_host("relay2")


@pytest.fixture(scope="session")
def smarthost():
    return podman_host("smarthost")
