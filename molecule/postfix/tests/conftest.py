from __future__ import annotations

import os

import pytest
from conftest_common import mx1, outside, run_playbook, trusted

__all__ = ["converge", "mx1", "outside", "trusted"]

CONVERGE = os.path.join(os.path.dirname(__file__), "..", "converge.yml")


@pytest.fixture(scope="session")
def converge():
    def _run(extra_vars=None, check=False):
        return run_playbook(CONVERGE, extra_vars, check=check, limit="mx1")

    return _run
