from __future__ import annotations

from conftest_common import converge, mx1, outside, trusted

__all__ = ["converge", "mx1", "outside", "trusted"]
