"""Helpers for :meth:`~actionspaces.ActionSpace.generation_rules`: Lark rules in llguidance's dialect.

A space's generation grammar describes what :meth:`~actionspaces.ActionSpace.render` writes, with every
repetition bounded so that generation always ends. The built-in spaces build theirs with these helpers,
and a custom space may too.

Examples:
    >>> lark_literal('say "hi"')
    '"say \\\\"hi\\\\""'
    >>> ordered_subset("keys", ['"a"', '"b"'], '", "')
    ['keys: "a" keys_after0 | "b"', 'keys_after0: (", " "b")?']
"""

from __future__ import annotations

import json
from collections.abc import Sequence

__all__ = ["lark_literal", "ordered_subset"]


def lark_literal(text: str) -> str:
    """A Lark string literal of ``text``."""
    return json.dumps(text)


def ordered_subset(name: str, parts: Sequence[str], sep: str) -> list[str]:
    """Rules for a non-empty subsequence of ``parts`` in the given order, joined by ``sep``.

    Linear in ``len(parts)``: alternative ``i`` starts at part ``i``; ``<name>_after<i>`` optionally adds
    part ``i + 1`` and continues, so no part can appear twice and the order is fixed.
    """
    last = len(parts) - 1
    heads = [f"{part} {name}_after{i}" if i < last else part for i, part in enumerate(parts)]
    rules = [f"{name}: " + " | ".join(heads)]
    for i in range(last):
        tail = f" {name}_after{i + 1}" if i + 1 < last else ""
        rules.append(f"{name}_after{i}: ({sep} {parts[i + 1]})?{tail}")
    return rules
