"""Labelled decisions as a Hugging Face ``datasets.Dataset`` in TRL's conversational format, for ``SFTTrainer``.

CrossHA's SFT sets (D_mix, the rejection-sampled set, the relabelled set) are pairs of what the model saw
(the observation text, and optionally the frame) and what it should answer (a response in some space).
:func:`sft_dataset` writes them as TRL's *prompt-completion* conversational rows, so ``SFTTrainer``
applies the tokenizer's chat template and, by default, trains on the completion only, as the reference
trainer does:

.. code-block:: python

    {"prompt": [{"role": "user", "content": observation}],
     "completion": [{"role": "assistant", "content": response}], "space": "grounding", ...}

Extra columns (the space, the task) ride along for filtering; TRL ignores them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from ..chat import checked_system_prompt, opening_messages

__all__ = ["SFTExample", "sft_dataset", "sft_rows"]

#: One decision: ``(observation, response)`` or ``(observation, response, extra columns)``.
SFTExample = tuple[str, str] | tuple[str, str, Mapping[str, Any]]


def sft_rows(examples: Iterable[SFTExample], *, system: str | None = None) -> list[dict[str, Any]]:
    """TRL's prompt-completion conversational rows of ``examples`` (what :func:`sft_dataset` holds).

    ``system`` opens every prompt with that system message (``None``: the chat template's default); a
    checkpoint trained with one (:func:`~actionspaces.chat.recorded_system_prompt`) is prompted with it.

    Raises:
        ValueError: an example is not ``(str, str[, mapping])``, or its extra columns clash with the row's.
        TypeError: ``system`` is neither a string nor ``None``.

    Examples:
        >>> row = sft_rows([("task: mine_block:oak_log", "Skill: chop a tree", {"space": "language"})])[0]
        >>> row["prompt"], row["completion"][0]["content"], row["space"]
        ([{'role': 'user', 'content': 'task: mine_block:oak_log'}], 'Skill: chop a tree', 'language')
    """
    checked_system_prompt(system)
    rows = []
    for i, example in enumerate(examples):
        if not isinstance(example, Sequence) or len(example) not in (2, 3):
            raise ValueError(f"example {i} must be (observation, response[, columns]), got {example!r}")
        observation, response = example[0], example[1]
        extra = example[2] if len(example) == 3 else {}
        if not isinstance(observation, str) or not isinstance(response, str):
            raise ValueError(f"example {i}: observation and response must be strings, got {example[:2]!r}")
        if not isinstance(extra, Mapping) or {"prompt", "completion"} & set(extra):
            raise ValueError(f"example {i}: extra columns must be a mapping without 'prompt' or 'completion'")
        rows.append(
            {
                "prompt": opening_messages(observation, system),
                "completion": [{"role": "assistant", "content": response}],
                **extra,
            }
        )
    return rows


def sft_dataset(examples: Iterable[SFTExample], *, system: str | None = None) -> Any:
    """A ``datasets.Dataset`` of :func:`sft_rows` (the ``trl`` extra installs ``datasets``), ``system`` as there.

    Raises:
        ImportError: ``datasets`` is not installed.
        ValueError: see :func:`sft_rows`; also when there are no examples.
    """
    try:
        from datasets import Dataset  # type: ignore[import-untyped]
    except ImportError as err:
        raise ImportError("sft_dataset needs the datasets package: pip install 'actionspaces[trl]'") from err
    rows = sft_rows(examples, system=system)
    if not rows:
        raise ValueError("no examples to make a dataset of")
    return Dataset.from_list(rows)
