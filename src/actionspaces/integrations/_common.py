"""What the TRL and verl adapters share: reading a completion's text and a row's view state."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ..state import ViewState

__all__ = ["answer_text", "completion_text", "completion_texts", "observation_text", "view_state"]


def answer_text(tokenizer: Any, ids: Sequence[int], drop: set[int] | None = None) -> str:
    """The text of generated ``ids`` as an env or a reward must read it: special tokens kept.

    The spaces' markers (``<|point_start|>``) and latent codes (``<|latent_3|>``) are special tokens, which
    ``skip_special_tokens=True`` (what TRL decodes completions with) deletes. The end-of-turn and padding
    ids are left out instead: ``drop``, by default the tokenizer's EOS and pad ids.
    """
    if drop is None:
        drop = {i for i in (tokenizer.eos_token_id, tokenizer.pad_token_id) if i is not None}
    return str(tokenizer.decode([int(i) for i in ids if int(i) not in drop], skip_special_tokens=False))


def completion_texts(completions: Sequence[Any], tokenizer: Any, kwargs: Mapping[str, Any]) -> list[str]:
    """Each completion's text: decoded from TRL's ``completion_ids`` with ``tokenizer`` when one is given."""
    if tokenizer is None:
        return [completion_text(c) for c in completions]
    ids = kwargs.get("completion_ids")
    if ids is None or len(ids) != len(completions):
        raise ValueError("a reward given a tokenizer decodes TRL's completion_ids: pass them, one per completion")
    return [answer_text(tokenizer, row) for row in ids]


def completion_text(completion: Any) -> str:
    """The text of a completion: a string, or (conversational format) the last assistant message.

    Examples:
        >>> completion_text([{"role": "assistant", "content": "Motion: jump"}])
        'Motion: jump'
    """
    if isinstance(completion, str):
        return completion
    if isinstance(completion, list | tuple):
        for message in reversed(completion):
            if isinstance(message, Mapping) and message.get("role") == "assistant":
                content = message.get("content")
                if isinstance(content, str):
                    return content
                if isinstance(content, list):  # multimodal content parts
                    return "".join(p.get("text", "") for p in content if isinstance(p, Mapping))
        raise ValueError("a conversational completion must contain an assistant message with text content")
    raise TypeError(f"a completion is a str or a list of messages, got {type(completion).__name__}")


def observation_text(obs: Mapping[str, Any]) -> str:
    """What a model reads of a text-action env's observation by default: its ``"text"``.

    Raises:
        ValueError: the observation has no ``"text"`` string.
    """
    if not isinstance(obs, Mapping) or not isinstance(obs.get("text"), str):
        raise ValueError("the observation has no 'text'; pass observation= to say what the model reads of it")
    return str(obs["text"])


def view_state(value: Any) -> ViewState | None:
    """A :class:`ViewState` from ``None``, a ``ViewState`` or a mapping of its fields (a dataset column).

    Examples:
        >>> view_state({"gui_open": True}).gui_open
        True
    """
    if value is None or isinstance(value, ViewState):
        return value
    if isinstance(value, Mapping):
        return ViewState.model_validate(dict(value))
    raise TypeError(f"a view state is a ViewState, a mapping of its fields or None, got {type(value).__name__}")
