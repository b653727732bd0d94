"""Reward functions with TRL's ``GRPOTrainer`` signature.

TRL calls each reward function with keyword arguments only: ``prompts``, ``completions``,
``completion_ids`` and every other dataset column, repeated per generation. Each function here returns
``list[float | None]``, one entry per completion; ``None`` (a row without a reference) is "not
applicable", which TRL leaves out of the group statistics.

Examples:
    >>> reward = action_match_reward_func()
    >>> reward(prompts=["p", "p"], completions=["Action: move(0, 0) and press(w)", "Skill: dance"],
    ...        completion_ids=[[1], [2]], solution=["Motion: move forward", "Motion: move forward"])
    [1.0, 0.0]
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Literal

from ..camera import CameraQuantizer
from ..chain import ChainSpace
from ..rewards import action_match_reward, format_reward
from ..token_cost import TokenCounter
from ._common import completion_text, completion_texts, view_state

__all__ = ["RewardFunc", "action_match_reward_func", "format_reward_func", "token_penalty_reward_func"]

#: TRL's reward-function protocol: keyword arguments in, one score (or None) per completion out.
RewardFunc = Callable[..., list[float | None]]


def _column(kwargs: dict[str, Any], name: str, n: int) -> list[Any]:
    if name not in kwargs:
        columns = sorted(k for k in kwargs if k not in ("trainer_state", "log_extra", "log_metric"))
        raise KeyError(f"the dataset has no {name!r} column; columns passed to the reward: {columns}")
    values = list(kwargs[name])
    if len(values) != n:
        raise ValueError(f"column {name!r} has {len(values)} entries for {n} completions")
    return values


def action_match_reward_func(
    *,
    solution_column: str = "solution",
    state_column: str | None = "state",
    chain: ChainSpace | None = None,
    mode: Literal["tolerance", "openha_strl"] = "tolerance",
    camera_tol_deg: float = 1e-6,
    quantizer: CameraQuantizer | None = None,
    tokenizer: Any = None,
) -> RewardFunc:
    """The STRL reward ``1{g(â) = g(a*)}`` against the dataset column ``solution_column``.

    ``state_column`` (when present in the dataset) holds each row's view state, as a mapping of
    :class:`~actionspaces.ViewState` fields. Rows whose solution is ``None`` score ``None``.

    TRL decodes ``completions`` with ``skip_special_tokens=True``, which deletes latent codes and grounding
    markers (special tokens): pass the ``tokenizer`` to score the text decoded from ``completion_ids``
    with them kept.
    """

    def action_match(completions: Sequence[Any], **kwargs: Any) -> list[float | None]:
        texts = completion_texts(completions, tokenizer, kwargs)
        solutions = _column(kwargs, solution_column, len(completions))
        states = (
            _column(kwargs, state_column, len(completions))
            if state_column is not None and state_column in kwargs
            else [None] * len(completions)
        )
        return [
            None
            if solution is None
            else action_match_reward(
                text,
                solution,
                chain=chain,
                state=view_state(state),
                mode=mode,
                camera_tol_deg=camera_tol_deg,
                quantizer=quantizer,
            )
            for text, solution, state in zip(texts, solutions, states, strict=True)
        ]

    return action_match


def format_reward_func(*, chain: ChainSpace | None = None, penalty: float = 1.0, tokenizer: Any = None) -> RewardFunc:
    """``−penalty`` per parse error of each completion (0 for a clean parse).

    ``tokenizer``: as in :func:`action_match_reward_func` (latent codes and markers kept).
    """
    if not penalty >= 0:
        raise ValueError(f"penalty must be >= 0, got {penalty}")

    def action_format(completions: Sequence[Any], **kwargs: Any) -> list[float | None]:
        texts = completion_texts(completions, tokenizer, kwargs)
        return [format_reward(text, chain=chain, penalty=penalty) for text in texts]

    return action_format


def token_penalty_reward_func(lam: float, *, counter: TokenCounter | None = None) -> RewardFunc:
    """``−λ · tokens`` per completion: the token term of CrossHA's ``success − λ·tokens``.

    Counts ``completion_ids`` (what the policy generated) unless a :class:`TokenCounter` is given, in
    which case the completion text is re-tokenised. Add it to a success reward with weight 1.
    """
    if not (isinstance(lam, int | float) and lam >= 0 and lam != float("inf")):
        raise ValueError(f"lam must be a finite number >= 0, got {lam!r}")

    def token_penalty(
        completions: Sequence[Any], completion_ids: Sequence[Sequence[int]] | None = None, **kwargs: Any
    ) -> list[float | None]:
        if counter is not None:
            counts = [counter(completion_text(c)) for c in completions]
        elif completion_ids is not None:
            counts = [len(ids) for ids in completion_ids]
        else:
            raise ValueError("token_penalty needs completion_ids from the trainer, or a TokenCounter")
        return [-lam * n for n in counts]

    return token_penalty
