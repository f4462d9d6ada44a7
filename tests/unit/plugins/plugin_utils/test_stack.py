"""Unit tests for plugins/plugin_utils/_stack.py: several variables evaluated in one template."""

from __future__ import annotations

import pytest
from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar

from ansible_collections.mailops.mailhost.plugins.plugin_utils import _stack as s

pytestmark = pytest.mark.skipif(not s.DATA_TAGGING, reason="one template for several names: ansible-core 2.19+")

T = s.trust_as_template


def templar(variables: dict):
    loader = DataLoader()
    return s.scoped_templar(Templar(loader=loader), loader, variables)


VARIABLES = {
    "base": T("{{ 'hash' if kind == 'old' else 'lmdb' }}"),
    "kind": "new",
    "maps": T("{{ base }}:/etc/postfix/maps"),
    "table": T("{{ {'type': base, 'list': [maps, 1, true, none]} }}"),
    "word": "yes",
    "number": T("{{ 25 }}"),
    "flag": T("{{ kind == 'new' }}"),
    "empty": T("{{ [] }}"),
    "text": "{{ not a template: this string was not trusted }}",
}


def test_together_gives_what_each_gives_alone():
    names = list(VARIABLES)
    scoped = templar(VARIABLES)
    together = s.evaluate_together(scoped, names)
    assert together == {name: s.evaluate(templar(VARIABLES), name) for name in names}
    assert together["table"] == {"type": "lmdb", "list": ["lmdb:/etc/postfix/maps", 1, True, None]}
    assert together["word"] == "yes" and together["number"] == 25 and together["flag"] is True
    assert together["text"] == "{{ not a template: this string was not trusted }}"


def test_a_failing_name_leaves_it_to_the_caller():
    variables = {**VARIABLES, "broken": T("{{ no_such_variable ~ 'x' }}")}
    assert s.evaluate_together(templar(variables), ["base", "broken"]) is None
    # the caller's one-by-one evaluation names the variable that failed, and the others still evaluate
    assert s.evaluate(templar(variables), "base") == "lmdb"
    with pytest.raises(Exception, match="no_such_variable"):
        s.evaluate(templar(variables), "broken")


def test_no_names():
    assert s.evaluate_together(templar(VARIABLES), []) is None
