from __future__ import annotations

from conftest_common import mx1, outside

__all__ = ["mx1", "outside"]
