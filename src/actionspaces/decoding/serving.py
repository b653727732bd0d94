"""Constrained decoding on a serving engine: the generation grammars as vLLM and SGLang take them.

Both engines serve an OpenAI-compatible API whose requests take a grammar through extra body fields, and
both can hand it to llguidance, the engine our grammars are written for (Lark syntax, special tokens as
single tokens ``<|name|>``). Start the server with llguidance as its structured-output backend:

* vLLM (0.12 or later): ``vllm serve MODEL --structured-outputs-config '{"backend": "guidance"}'``; the request
  carries ``{"structured_outputs": {"grammar": GRAMMAR}}`` (before 0.12, ``{"guided_grammar": GRAMMAR}``
  with ``--guided-decoding-backend guidance``).
* SGLang: ``python -m sglang.launch_server --model-path MODEL --grammar-backend llguidance``; the request
  carries ``{"ebnf": "%llguidance {}\\n" + GRAMMAR}`` (the directive tells it the grammar is llguidance's
  Lark, not GBNF).

xgrammar, the other backend of both engines, reads GBNF and has no syntax for a special token as one
token, so these grammars are not offered for it.

Examples:
    >>> body = request_body("raw", engine="vllm")
    >>> body["structured_outputs"]["grammar"].splitlines()[0]
    'start: "Action: " raw'
    >>> request_body("chain", engine="sglang", spaces=["raw", "grounding"], single=True)["ebnf"].splitlines()[:2]
    ['%llguidance {}', 'start: "Grounding: " grounding | "Action: " raw']
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Literal

from .grammar import generation_grammar

if TYPE_CHECKING:
    from ..chain import ChainSpace
    from ..space import ActionSpace

__all__ = ["ENGINES", "Engine", "request_body", "serving_grammar"]

Engine = Literal["vllm", "vllm-legacy", "sglang"]
#: The engines (and request dialects) the grammars are exported for.
ENGINES: tuple[str, ...] = ("vllm", "vllm-legacy", "sglang")
_LLGUIDANCE_DIRECTIVE = "%llguidance {}\n"


def serving_grammar(
    target: ActionSpace[Any] | ChainSpace | str,
    *,
    engine: Engine,
    spaces: Sequence[str] | None = None,
    single: bool = False,
) -> str:
    """The generation grammar of ``target`` as ``engine`` takes it in a request (see :func:`request_body`).

    Raises:
        ValueError: an unknown engine (or space, as :func:`generation_grammar` says).
    """
    if engine not in ENGINES:
        raise ValueError(f"unknown engine {engine!r}; expected one of {', '.join(ENGINES)}")
    grammar = generation_grammar(target, spaces=spaces, single=single)
    return _LLGUIDANCE_DIRECTIVE + grammar if engine == "sglang" else grammar


def request_body(
    target: ActionSpace[Any] | ChainSpace | str,
    *,
    engine: Engine,
    spaces: Sequence[str] | None = None,
    single: bool = False,
) -> dict[str, Any]:
    """The extra body fields of an OpenAI-compatible request that constrain the answer to ``target``.

    Pass the result as ``extra_body=`` to the ``openai`` client (or merge it into the JSON of a raw
    request). ``spaces`` and ``single`` restrict a chain as in :func:`generation_grammar`.

    Args:
        target: a space, a :class:`~actionspaces.ChainSpace`, or a name (``"raw"``, …, ``"chain"``).
        engine: ``"vllm"`` (0.12 or later), ``"vllm-legacy"`` (before 0.12) or ``"sglang"``, each
            serving with llguidance as its structured-output backend.
        spaces: for a chain, the spaces it may use.
        single: for a chain, exactly one level.

    Raises:
        ValueError: an unknown engine or space.
    """
    grammar = serving_grammar(target, engine=engine, spaces=spaces, single=single)
    if engine == "vllm":
        return {"structured_outputs": {"grammar": grammar}}
    if engine == "vllm-legacy":
        return {"guided_grammar": grammar}
    return {"ebnf": grammar}
