"""The chat a model reads: how it opens, and the system message a checkpoint was trained with.

Every path that prompts a model (the reference trainer's :class:`~actionspaces.training.policy.Policy`,
TRL's datasets and rollouts, verl's agent loop) opens its chat with :func:`opening_messages`, so a model is
prompted as it was trained whichever engine runs it. A checkpoint records its system message in its
config (:func:`~actionspaces.training.policy.set_system_prompt`); :func:`recorded_system_prompt` reads it
back, from a model, a policy or a config. Nothing here imports torch.

Examples:
    >>> opening_messages("task: mine_block:oak_log", system="")
    [{'role': 'system', 'content': ''}, {'role': 'user', 'content': 'task: mine_block:oak_log'}]
    >>> opening_messages("task: mine_block:oak_log")
    [{'role': 'user', 'content': 'task: mine_block:oak_log'}]
"""

from __future__ import annotations

from typing import Any

__all__ = ["SYSTEM_PROMPT_ATTRIBUTE", "checked_system_prompt", "opening_messages", "recorded_system_prompt"]

#: The attribute of a model's config that holds the system message it was trained with (what
#: :func:`~actionspaces.training.policy.set_system_prompt` records, so a reloaded checkpoint is prompted the same way).
SYSTEM_PROMPT_ATTRIBUTE = "actionspaces_system_prompt"


def checked_system_prompt(system: object) -> str | None:
    """``system`` itself when it is a system message (a string) or ``None`` (the chat template's default).

    Raises:
        TypeError: it is anything else.
    """
    if system is not None and not isinstance(system, str):
        raise TypeError(f"a system message is a string or None, got {type(system).__name__}: {system!r}")
    return system


def opening_messages(content: Any, system: str | None = None) -> list[dict[str, Any]]:
    """A chat's first messages: the system message ``system`` (none when ``None``), then the user's ``content``.

    ``None`` leaves the system turn to the chat template, which may insert its own default (SmolLM2's does);
    ``""`` writes an empty system message, which keeps it out.

    Raises:
        TypeError: ``system`` is neither a string nor ``None``.
    """
    user = {"role": "user", "content": content}
    return [user] if checked_system_prompt(system) is None else [{"role": "system", "content": system}, user]


def recorded_system_prompt(model: Any) -> str | None:
    """The system message ``model`` (a model, a policy with ``.model``, or a model config) was trained with.

    ``None`` when none was recorded: the chat template's default is what the model was trained with.

    Examples:
        >>> from types import SimpleNamespace
        >>> recorded_system_prompt(SimpleNamespace(actionspaces_system_prompt=""))
        ''
        >>> recorded_system_prompt(SimpleNamespace(config=SimpleNamespace())) is None
        True

    Raises:
        TypeError: the recorded value is neither a string nor ``None`` (a damaged config).
    """
    model = getattr(model, "model", model)
    config = getattr(model, "config", model)
    try:
        return checked_system_prompt(getattr(config, SYSTEM_PROMPT_ATTRIBUTE, None))
    except TypeError as err:
        raise TypeError(f"the config's {SYSTEM_PROMPT_ATTRIBUTE} is damaged: {err}") from None
