"""Grammar-constrained decoding: a model that can only write actions that parse.

* :func:`generation_grammar` exports a space's (or a chain's) canonical output as an llguidance Lark
  grammar, special tokens as single tokens; it needs nothing beyond the core.
* :class:`GrammarConstraint` compiles it for a Hugging Face tokenizer (the ``constrained`` extra:
  llguidance), and hands out an :class:`ActionLogitsProcessor` for ``model.generate``.
* :func:`masked_token_logprobs` gives the log-probs of the masked distribution, the one GRPO must use
  for responses sampled under a mask.
* :func:`request_body` hands the grammars to a serving engine (vLLM, SGLang) with llguidance as its
  structured-output backend; it needs nothing beyond the core.

Examples:
    >>> from actionspaces.decoding import generation_grammar
    >>> grammar = generation_grammar("chain", spaces=["raw", "grounding"])
    >>> grammar.splitlines()[0]
    'start: "Grounding: " grounding start_after0 | "Action: " raw'
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .grammar import generation_grammar, special_tokens
from .serving import ENGINES, request_body, serving_grammar

if TYPE_CHECKING:
    from .constraint import GrammarConstraint
    from .masks import allowed_tokens, masked_token_logprobs
    from .processor import ActionLogitsProcessor

__all__ = [
    "ENGINES",
    "ActionLogitsProcessor",
    "GrammarConstraint",
    "allowed_tokens",
    "generation_grammar",
    "masked_token_logprobs",
    "request_body",
    "serving_grammar",
    "special_tokens",
]

# torch, transformers and llguidance load only when these are used: exporting a grammar needs none.
_LAZY = {
    "GrammarConstraint": ".constraint",
    "allowed_tokens": ".masks",
    "masked_token_logprobs": ".masks",
    "ActionLogitsProcessor": ".processor",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from importlib import import_module

    return getattr(import_module(module, __name__), name)
