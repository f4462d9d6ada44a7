"""Unit tests for plugins/module_utils/_host.py: the pauses between looks at a service coming back."""

from __future__ import annotations

import itertools

from ansible_collections.mailops.mailhost.plugins.module_utils._host import pauses


def test_pauses_start_short_and_double_up_to_the_most():
    assert list(itertools.islice(pauses(), 7)) == [0.05, 0.1, 0.2, 0.4, 0.5, 0.5, 0.5]
    assert list(itertools.islice(pauses(most=0.3), 4)) == [0.05, 0.1, 0.2, 0.3]


def test_a_long_wait_costs_few_looks():
    """30 s of waiting (the services' limit) is about 60 looks, as with a fixed half second."""
    total, looks = 0.0, 0
    for pause in pauses():
        if total >= 30:
            break
        total, looks = total + pause, looks + 1
    assert looks <= 64
