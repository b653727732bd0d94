"""What the TRL and verl adapters share: reading a completion's text and a row's view state."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..state import ViewState

__all__ = ["completion_text", "view_state"]


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
