"""Token cost: how many tokens the policy wrote, and the length-penalised return of CrossHA's MTRL.

Only *policy* tokens count: what the model generated in each turn, never the prompt, the observation or
text a tool or the environment injected. No torch needed: a tensor of ids is read through its
``reshape``/``tolist``, as an array is.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from numbers import Real
from typing import Any

import numpy as np

__all__ = [
    "FORMAT_PENALTY",
    "TOKEN_PENALTY",
    "TokenCounter",
    "check_penalties",
    "episode_return",
    "token_penalized_return",
]

#: CrossHA's λ: the cost of one policy token in the episode return.
TOKEN_PENALTY = 1e-3
#: The cost of a call whose response had nothing executable (CrossAgent's -0.1 per such turn).
FORMAT_PENALTY = 0.1


class TokenCounter:
    """Counts the tokens of completions with a Hugging Face tokenizer or any callable.

    Args:
        tokenizer: an object with ``encode(text, add_special_tokens=False)`` (any Hugging Face tokenizer),
            or a callable returning the ids (or their number) for a text.

    Examples:
        >>> counter = TokenCounter(str.split)
        >>> counter("Action: move(0, 0) and press(w)"), counter.count_ids([[5, 6, 7, 0]], mask=[[1, 1, 1, 0]])
        (5, 3)
    """

    def __init__(self, tokenizer: Any) -> None:
        encode = getattr(tokenizer, "encode", None)
        if callable(encode):
            self._encode: Callable[[str], Any] = lambda text: encode(text, add_special_tokens=False)
        elif callable(tokenizer):
            self._encode = tokenizer
        else:
            raise TypeError(
                f"TokenCounter needs a tokenizer with .encode or a callable, got {type(tokenizer).__name__}"
            )

    def __call__(self, text: str) -> int:
        """The number of tokens of ``text``, as the policy would write it (no special tokens added)."""
        if not isinstance(text, str):
            raise TypeError(f"TokenCounter counts str, got {type(text).__name__}")
        out = self._encode(text)
        if isinstance(out, bool | float | np.floating | np.bool_):
            raise TypeError(f"the tokenizer callable returned {type(out).__name__} {out!r}, not a count or the ids")
        if isinstance(out, int | np.integer):
            if out < 0:
                raise ValueError(f"the tokenizer callable returned a negative count {out}")
            return int(out)
        return len(out)

    def count(self, texts: Sequence[str]) -> list[int]:
        """Token counts of several texts."""
        return [self(text) for text in texts]

    @staticmethod
    def count_ids(ids: Any, mask: Any = None) -> int:
        """Policy tokens among generated ids: all of them, or those where ``mask`` (tool/env mask) is 1.

        ``ids`` is a sequence (or a ragged list of sequences, or a tensor/array) of generated ids;
        ``mask`` has the same shape, 1 on model tokens and 0 on padding or injected tokens.
        """
        if mask is None:
            return len(_flatten(ids))
        values = _flatten(mask)
        if any(v not in (0, 1) for v in values):
            raise ValueError("mask must hold only 0 and 1")
        return int(sum(values))

    def __repr__(self) -> str:
        return f"TokenCounter({self._encode!r})"


def _flatten(x: Any) -> list[Any]:
    """The scalars of a tensor, an array or a (ragged) nested sequence, in order."""
    if hasattr(x, "reshape") and hasattr(x, "tolist"):  # a torch tensor or a numpy array
        return list(x.reshape(-1).tolist())
    if isinstance(x, int | float | np.integer | np.floating | bool):
        return [x]
    return [v for item in x for v in _flatten(item)]


def token_penalized_return(success: bool | float, tokens: int | Sequence[int], lam: float) -> float:
    """CrossHA's episodic return ``success − λ · tokens``, tokens summed over every turn of the trajectory.

    Apply it per trajectory *before* group normalisation; with std scaling on, λ's effect is rescaled
    per group.

    Args:
        success: 1/True when the episode succeeded (or a success score in ``[0, 1]``).
        tokens: the policy tokens of the whole trajectory, or one count per turn.
        lam: λ >= 0, the cost of one token.

    Examples:
        >>> token_penalized_return(True, [12, 30, 8], lam=0.001)
        0.95
    """
    if isinstance(lam, bool) or not (isinstance(lam, Real) and math.isfinite(lam) and lam >= 0):
        raise ValueError(f"lam must be a finite number >= 0, got {lam!r}")
    if not isinstance(success, Real | np.bool_):
        raise TypeError(f"success must be a bool or a number in [0, 1], got {type(success).__name__}: {success!r}")
    s = float(success)
    if not 0.0 <= s <= 1.0:
        raise ValueError(f"success must lie in [0, 1], got {success!r}")
    if isinstance(tokens, int | float | np.integer | np.floating | np.bool_):
        counts: list[Any] = [tokens]
    elif isinstance(tokens, str | bytes) or not hasattr(tokens, "__iter__"):
        raise TypeError(f"tokens must be a count or a sequence of counts, got {type(tokens).__name__}: {tokens!r}")
    else:
        counts = list(tokens)
    for c in counts:
        if isinstance(c, bool | np.bool_) or not isinstance(c, int | np.integer) or c < 0:
            raise ValueError(f"tokens must be non-negative integers, got {type(c).__name__} {c!r} in {tokens!r}")
    return s - lam * float(sum(int(c) for c in counts))


def check_penalties(token_penalty: float, format_penalty: float) -> None:
    """Refuse penalties :func:`episode_return` would refuse, before any episode is played (the adapters' check).

    Raises:
        ValueError: either penalty is not a finite number >= 0 (a NaN would make every return NaN).

    Examples:
        >>> check_penalties(TOKEN_PENALTY, FORMAT_PENALTY)
        >>> check_penalties(0.001, float("nan"))
        Traceback (most recent call last):
        ...
        ValueError: penalties must be finite numbers >= 0, got token 0.001, format nan
    """
    if not all(
        not isinstance(p, bool) and isinstance(p, Real) and math.isfinite(p) and p >= 0
        for p in (token_penalty, format_penalty)
    ):
        raise ValueError(f"penalties must be finite numbers >= 0, got token {token_penalty}, format {format_penalty}")


def episode_return(
    success: bool | float,
    tokens: int | Sequence[int],
    unparsed: int,
    *,
    token_penalty: float = TOKEN_PENALTY,
    format_penalty: float = FORMAT_PENALTY,
) -> float:
    """The MTRL episode return: ``success − λ · tokens − format_penalty · unparsed calls``.

    The one definition the reference trainer and the TRL rollout share (:func:`token_penalized_return`,
    less ``format_penalty`` for each call whose response had nothing executable).

    Examples:
        >>> round(episode_return(True, [12, 30, 8], unparsed=1), 6)
        0.85

    Raises:
        ValueError: ``unparsed`` is not a non-negative integer, or ``format_penalty`` not a finite number >= 0
            (and what :func:`token_penalized_return` refuses).
    """
    if isinstance(unparsed, bool | np.bool_) or not isinstance(unparsed, int | np.integer) or unparsed < 0:
        raise ValueError(f"unparsed must be a non-negative integer (a count of calls), got {unparsed!r}")
    if isinstance(format_penalty, bool) or not (
        isinstance(format_penalty, Real) and math.isfinite(format_penalty) and format_penalty >= 0
    ):
        raise ValueError(f"format_penalty must be a finite number >= 0, got {format_penalty!r}")
    return token_penalized_return(success, tokens, token_penalty) - format_penalty * int(unparsed)
