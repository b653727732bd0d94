"""A transformers ``LogitsProcessor`` that lets a model write only strings of a generation grammar."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from transformers import LogitsProcessor

from .masks import allowed_tokens

if TYPE_CHECKING:
    from .constraint import GrammarConstraint

__all__ = ["ActionLogitsProcessor"]


class ActionLogitsProcessor(LogitsProcessor):
    """Masks every next token the grammar forbids, one llguidance matcher per row of the batch.

    Use a new processor for each ``generate`` call (:meth:`GrammarConstraint.logits_processor`); the
    first call sees the (left-padded) prompts, every later call the token sampled since. Rows that have
    ended (EOS) are left unmasked: ``generate`` pads them anyway. Once a row's string is complete and
    nothing can follow, only EOS is allowed.

    After generation, :attr:`bitmasks` holds the mask applied before every generated token, for
    :func:`~actionspaces.decoding.masked_token_logprobs`. A row cut by ``max_new_tokens`` may end
    mid-action: size ``max_new_tokens`` for the longest string of the grammar.

    Examples:
        >>> processor = constraint.logits_processor()  # doctest: +SKIP
        >>> out = model.generate(**batch, logits_processor=[processor], do_sample=True)  # doctest: +SKIP
        >>> processor.bitmasks.shape  # (batch, generated tokens, words)  # doctest: +SKIP
    """

    def __init__(self, constraint: GrammarConstraint) -> None:
        self.constraint = constraint
        self._matchers: list[Any] | None = None
        self._ended: list[bool] = []
        self._prompt_length = 0
        self._masks: list[np.ndarray] = []

    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor) -> torch.FloatTensor:
        """Advance each row's matcher by its last token and mask the scores of the next one."""
        batch = input_ids.shape[0]
        if self._matchers is None:
            self._matchers = [self.constraint.matcher() for _ in range(batch)]
            self._ended = [False] * batch
            self._prompt_length = input_ids.shape[1]
        elif len(self._matchers) != batch:
            raise ValueError(
                f"the batch changed from {len(self._matchers)} to {batch} rows: use a new processor per generate call"
            )
        else:
            if input_ids.shape[1] != self._prompt_length + len(self._masks):
                raise ValueError("input_ids grew by more than one token since the last call: one processor per call")
            for row, token in enumerate(input_ids[:, -1].tolist()):
                if not self._ended[row]:
                    self._ended[row] = self.constraint.consume(self._matchers[row], token, row)
        words = np.empty((batch, self.constraint.words), dtype=np.int32)
        self.constraint.fill_masks(self._matchers, words, self._ended)
        self._masks.append(words)
        allowed = allowed_tokens(torch.from_numpy(words).to(scores.device), scores.shape[-1])
        return scores.masked_fill(~allowed, float("-inf"))  # type: ignore[return-value]

    @property
    def bitmasks(self) -> torch.Tensor:
        """``(B, T, words)`` int32: the packed mask applied before each of the ``T`` generated tokens."""
        if not self._masks:
            raise RuntimeError("the processor has not been called yet")
        return torch.from_numpy(np.stack(self._masks, axis=1))
