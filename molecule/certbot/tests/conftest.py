from __future__ import annotations

import os
import subprocess

import pytest
from conftest_common import mx1, run_playbook

__all__ = ["acme", "converge", "mx1"]

HERE = os.path.dirname(os.path.abspath(__file__))
CONVERGE = os.path.join(HERE, "..", "converge.yml")
STATE = os.path.join(os.environ.get("MOLECULE_EPHEMERAL_DIRECTORY", "/nonexistent"), "acme")


@pytest.fixture(scope="session")
def converge():
    def _run(extra_vars=None, check=False):
        return run_playbook(CONVERGE, extra_vars, check=check, limit="mx1")

    return _run


@pytest.fixture(scope="session")
def acme():
    """Stop and start the ACME server (Pebble) on the controller."""

    def _do(action: str) -> None:
        subprocess.run(
            ["python3", os.path.join(HERE, "..", "acme_server.py"), action, STATE],
            check=True,
            env=dict(os.environ, PYTHONPATH=os.path.join(HERE, "..", "..", "..", "tests", "integration")),
        )

    return _do
