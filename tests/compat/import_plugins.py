"""Import every plugin of the collection under the ansible-core that runs this, through Ansible's
own collection loader, as a play would load them. Prints one line; exits non-zero naming a failure."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

try:
    from ansible.plugins.loader import init_plugin_loader
except ImportError:  # ansible-core 2.14: importing the loader installs the collection finder
    importlib.import_module("ansible.plugins.loader")
else:
    init_plugin_loader()

from ansible.release import __version__

ROOT = Path(__file__).resolve().parents[2]
failures, count = [], 0
for path in sorted((ROOT / "plugins").glob("*/*.py")):
    if path.name == "__init__.py":
        continue
    name = f"ansible_collections.mailops.mailhost.plugins.{path.parent.name}.{path.stem}"
    try:
        importlib.import_module(name)
        count += 1
    except Exception as exc:  # noqa: BLE001 - every failure is reported
        failures.append(f"{name}: {type(exc).__name__}: {exc}")
for line in failures:
    print(f"compat: cannot import {line}")
print(f"compat: ansible-core {__version__}: {count} plugins imported, {len(failures)} failed")
sys.exit(1 if failures else 0)
