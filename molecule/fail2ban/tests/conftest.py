from __future__ import annotations

from conftest_common import mx1, outside, trusted

__all__ = ["mx1", "outside", "trusted"]
