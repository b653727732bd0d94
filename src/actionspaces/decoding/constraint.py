"""A generation grammar compiled against a tokenizer: token masks, replay, and masked log-probs.

Masks are llguidance's packed bitmasks: ``int32`` words, bit ``j`` of word ``w`` allowing token
``32·w + j``. They are kept packed (32× smaller than a boolean mask) and unpacked only where logits are.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from ..chain import ChainSpace
from ..space import ActionSpace
from .grammar import generation_grammar, special_tokens

if TYPE_CHECKING:
    import llguidance

    from .processor import ActionLogitsProcessor

__all__ = ["GrammarConstraint"]


def _llguidance() -> Any:
    try:
        import llguidance
        import llguidance.hf
    except ImportError as err:  # pragma: no cover - depends on the install
        raise ImportError("constrained decoding needs llguidance: pip install 'actionspaces[constrained]'") from err
    return llguidance


class GrammarConstraint:
    """A grammar compiled for one Hugging Face tokenizer; hands out matchers, masks and logits processors.

    Building one wraps the tokenizer for llguidance (about a second for a 150k vocabulary), so build it
    once and reuse it for every batch.

    Args:
        tokenizer: a *fast* Hugging Face tokenizer. Every special token the grammar names must be one
            token of it (e.g. ``<|latent_12|>``), added with ``add_special_tokens``.
        grammar: an llguidance Lark grammar, e.g. from :func:`~actionspaces.decoding.generation_grammar`.
        vocab_size: the model's vocabulary (its logits' last dimension) when larger than the tokenizer's;
            masks then cover it and forbid the padding ids.

    Raises:
        ValueError: a special token is missing from the tokenizer or the grammar does not compile
            (llguidance's message is included).

    Examples:
        >>> constraint = GrammarConstraint.for_space(tokenizer, "raw")  # doctest: +SKIP
        >>> model.generate(**inputs, logits_processor=[constraint.logits_processor()])  # doctest: +SKIP
    """

    def __init__(self, tokenizer: Any, grammar: str, *, vocab_size: int | None = None) -> None:
        llg = _llguidance()
        if not getattr(tokenizer, "is_fast", False):
            raise TypeError(f"a fast Hugging Face tokenizer is needed, got {type(tokenizer).__name__}")
        self._check_special_tokens(tokenizer, grammar)
        self.tokenizer = tokenizer
        self.grammar = grammar
        self.vocab_size = max(len(tokenizer), vocab_size or 0)
        self.eos_token_id: int = tokenizer.eos_token_id
        self._lltokenizer = llg.hf.from_tokenizer(tokenizer, n_vocab=self.vocab_size)
        self._compiled = llg.LLMatcher.grammar_from_lark(grammar)
        failed, messages = llg.LLMatcher.validate_grammar_with_warnings(self._compiled, self._lltokenizer)
        if failed:
            raise ValueError(f"the grammar does not compile: {'; '.join(messages)}")
        self._executor = llg.LLExecutor()
        # building a matcher compiles the grammar (milliseconds); copying a fresh one does not
        self._fresh: llguidance.LLMatcher = llg.LLMatcher(self._lltokenizer, self._compiled)

    @classmethod
    def for_space(
        cls,
        tokenizer: Any,
        target: ActionSpace[Any] | ChainSpace | str,
        *,
        spaces: Sequence[str] | None = None,
        single: bool = False,
        vocab_size: int | None = None,
    ) -> GrammarConstraint:
        """The constraint of :func:`~actionspaces.decoding.generation_grammar` ``(target, spaces, single)``."""
        return cls(tokenizer, generation_grammar(target, spaces=spaces, single=single), vocab_size=vocab_size)

    @staticmethod
    def _check_special_tokens(tokenizer: Any, grammar: str) -> None:
        vocab = tokenizer.get_vocab()
        special = set(tokenizer.all_special_tokens) | {
            t.content for t in tokenizer.added_tokens_decoder.values() if t.special
        }
        missing = [t for t in special_tokens(grammar) if t not in vocab or t not in special]
        if missing:
            shown = ", ".join(missing[:5]) + (f" and {len(missing) - 5} more" if len(missing) > 5 else "")
            raise ValueError(
                f"the tokenizer lacks {len(missing)} special token(s) the grammar needs as single tokens: {shown}; "
                "add them with tokenizer.add_special_tokens({'additional_special_tokens': [...]}) "
                "and model.resize_token_embeddings(len(tokenizer))"
            )

    @property
    def words(self) -> int:
        """Number of ``int32`` words in one packed mask."""
        return (self.vocab_size + 31) // 32

    def matcher(self) -> llguidance.LLMatcher:
        """A fresh llguidance matcher at the start of the grammar."""
        return self._fresh.deep_copy()

    def fill_masks(
        self, matchers: Sequence[llguidance.LLMatcher], out: np.ndarray, ended: Sequence[bool] | None = None
    ) -> None:
        """Write each matcher's next-token mask into row ``i`` of ``out`` (``(len(matchers), words)`` int32).

        Masks are computed in parallel in llguidance's thread pool. A matcher whose string is complete
        allows only EOS; a row that has ``ended`` (its EOS consumed) gets the all-allowed mask: what
        ``generate`` pads it with does not matter, and an all-forbidden row would make sampling fail.
        """
        ended = ended if ended is not None else [False] * len(matchers)
        out.fill(-1)
        live = []
        for i, (matcher, done) in enumerate(zip(matchers, ended, strict=True)):
            if done:
                continue
            if matcher.is_stopped():
                out[i] = 0
                out[i, self.eos_token_id // 32] = np.int32(np.uint32(1 << (self.eos_token_id % 32)).view(np.int32))
            else:
                live.append((matcher, i))
        if live:
            self._executor.unsafe_compute_mask_ptr(live, out.ctypes.data, out.shape[1] * 4, out.shape[0])

    def consume(self, matcher: llguidance.LLMatcher, token: int, row: int = 0) -> bool:
        """Advance ``matcher`` by ``token``; returns whether the token ended the row (EOS).

        Raises:
            ValueError: the token is outside the grammar (never ignored).
        """
        token = int(token)
        if matcher.is_stopped():
            if token != self.eos_token_id:
                raise ValueError(f"row {row}: token {token} after the end of the grammar, where only EOS is allowed")
            return True
        if not matcher.consume_token(token):
            text = self.tokenizer.convert_ids_to_tokens(token)
            raise ValueError(f"row {row}: token {token} ({text!r}) is not allowed here: {matcher.get_error()}")
        return token == self.eos_token_id

    def logits_processor(self) -> ActionLogitsProcessor:
        """A new :class:`~actionspaces.decoding.ActionLogitsProcessor` for one ``generate`` call."""
        from .processor import ActionLogitsProcessor

        return ActionLogitsProcessor(self)

    def replay_masks(self, responses: Sequence[Sequence[int]]) -> torch.Tensor:
        """The packed mask before every token of each response: ``(B, T, words)`` int32, ``T`` the longest.

        What the logits processor applied while sampling, recomputed afterwards (for responses sampled
        elsewhere, e.g. by vLLM). Positions after a response's EOS (padding) are all-allowed.

        Raises:
            ValueError: a response leaves the grammar (names the row and the token).
        """
        length = max((len(r) for r in responses), default=0)
        out = np.full((len(responses), length, self.words), -1, dtype=np.int32)
        for row, response in enumerate(responses):
            matcher = self.matcher()
            for t, token in enumerate(response):
                self.fill_masks([matcher], out[row, t : t + 1])
                if self.consume(matcher, token, row):
                    break
        return torch.from_numpy(out)

    def accepts(self, text: str) -> bool:
        """Whether ``text`` is a complete string of the grammar (tokenised as the model would write it)."""
        matcher = self.matcher()
        ids = self.tokenizer.encode(text, add_special_tokens=False)
        return bool(matcher.try_consume_tokens(ids) == len(ids) and matcher.is_accepting())
