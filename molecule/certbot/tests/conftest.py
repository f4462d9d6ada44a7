from __future__ import annotations

import os
import subprocess

import pytest
from conftest_common import converge, mx1

__all__ = ["acme", "converge", "mx1"]

HERE = os.path.dirname(os.path.abspath(__file__))
STATE = os.path.join(os.environ.get("MOLECULE_EPHEMERAL_DIRECTORY", "/nonexistent"), "acme")


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
