"""Rewards of the CrossHA recipe: the action-space-independent match, episode success, and format.

They parse and compare text and need no torch: the TRL and verl adapters (and any trainer) use them
from the core; :mod:`actionspaces.grpo` re-exports them beside its tensor math.

``action_match_reward`` is the single-step (STRL) reward ``1{g(â) = g(a*)}``: both texts are parsed
with a :class:`~actionspaces.ChainSpace`, the executable level of each is mapped to the env action of its
next tick (``g``, given the view state when a high-level level needs one), and the two env actions are
compared with :func:`~actionspaces.equivalent`. A prediction that does not parse or cannot be executed
scores 0; a *reference* that does not is a data error and raises.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from numbers import Real
from typing import Any, Literal

import numpy as np

from .camera import CameraQuantizer
from .chain import Chain, ChainSpace, default_chain
from .equivalence import equivalent
from .errors import ActionSpacesError
from .state import ViewState
from .task_id import TASK_CATEGORIES, parse_task

__all__ = ["TASK_CATEGORIES", "action_match_reward", "episode_success", "format_reward", "parse_task"]


def action_match_reward(
    completion: str,
    solution: str,
    *,
    chain: ChainSpace | None = None,
    state: ViewState | None = None,
    mode: Literal["tolerance", "openha_strl"] = "tolerance",
    camera_tol_deg: float = 1e-6,
    quantizer: CameraQuantizer | None = None,
) -> float:
    """1.0 when ``completion`` does on the next tick what ``solution`` does, else 0.0.

    Args:
        completion: the model's response (any space, or a chain).
        solution: the reference response (the expert's label, in any space).
        chain: the :class:`ChainSpace` to parse with (its spaces carry the controllers' parameters);
            the five default spaces when omitted.
        state: the view the action is taken in; needed to execute grounding and motion levels.
        mode, camera_tol_deg, quantizer: as in :func:`~actionspaces.equivalent`.

    Raises:
        ValueError: ``solution`` does not parse or cannot be executed (the message names why).

    Examples:
        >>> action_match_reward("Action: move(0, 0) and press(w)", "Motion: move forward")
        1.0
        >>> action_match_reward("Action: move(0, 0) and press(", "Motion: move forward")
        0.0
    """
    space = chain or default_chain()
    try:
        target = space.canonicalize(space.parse(solution), state)
    except ActionSpacesError as err:
        raise ValueError(f"the reference solution {solution!r} cannot be executed: {err}") from err
    try:
        predicted = space.canonicalize(space.parse(completion), state)
    except ActionSpacesError:
        return 0.0
    same = equivalent(predicted, target, camera_tol_deg=camera_tol_deg, quantizer=quantizer, mode=mode)
    return 1.0 if same else 0.0


def format_reward(completion: str | Chain, *, chain: ChainSpace | None = None, penalty: float = 1.0) -> float:
    """0.0 for a response that parses completely; ``−penalty`` per error otherwise.

    Each level that fails to parse is one error, as is each piece of text outside any level and a
    response with no level at all.

    Examples:
        >>> format_reward("Motion: turn left\\nAction: move(1, 0) and press()")
        0.0
        >>> format_reward("Motion: spin around\\nAction: move(1, 0) and press(")
        -2.0
    """
    if isinstance(penalty, bool) or not isinstance(penalty, Real) or not 0 <= penalty < math.inf:
        raise ValueError(f"penalty must be a finite number >= 0, got {penalty!r}")
    parsed = completion if isinstance(completion, Chain) else (chain or default_chain()).parse(completion)
    errors = len(parsed.errors)  # a response with no level carries a chain error
    return -penalty * errors if errors else 0.0


def episode_success(info: Mapping[str, Any], task: str) -> float:
    """1.0 when the MineStudio-style counter of ``task`` in ``info`` is positive (RewardsCallback's rule).

    Counters are counts: non-negative integers (Python's or numpy's). Anything else is refused, so that a
    0.5, an inf or a ``True`` is never read as a success.

    Raises:
        KeyError: ``info`` has no counters of the task's category.
        TypeError: the counters are not a mapping, or the task's counter is not an integer.
        ValueError: the task's counter is negative.

    Examples:
        >>> episode_success({"mine_block": {"oak_log": 1}, "craft_item": {}}, "mine_block:oak_log")
        1.0
        >>> episode_success({"mine_block": {"oak_log": 1}, "craft_item": {}}, "craft_item:stick")
        0.0
    """
    category, item = parse_task(task)
    if category not in info:
        raise KeyError(f"info has no {category!r} counters (keys: {sorted(info)}); is this a MineStudio-style info?")
    counters = info[category]
    if not isinstance(counters, Mapping):
        raise TypeError(f"info[{category!r}] must map items to counts, got {type(counters).__name__}")
    count = counters.get(item, 0)
    if isinstance(count, bool | np.bool_) or not isinstance(count, int | np.integer):
        raise TypeError(f"info[{category!r}][{item!r}] must be an integer count, got {type(count).__name__}: {count!r}")
    if count < 0:
        raise ValueError(f"info[{category!r}][{item!r}] is a negative count: {count!r}")
    return 1.0 if count > 0 else 0.0
