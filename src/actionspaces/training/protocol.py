"""What the training stages need of a model: :class:`TrainablePolicy`, a protocol.

``sft_step``, ``grpo_update``, ``train_stage`` and ``play_policy`` use a policy only through these
methods, so a model served elsewhere, or any model class of yours, plugs into them by implementing the
protocol; :class:`~actionspaces.training.policy.Policy` (any Hugging Face causal LM or Qwen2-VL) is the
library's implementation.

Examples:
    >>> from actionspaces.training.tiny import build_tiny_policy
    >>> isinstance(build_tiny_policy(["Action: no_op"] * 20, hidden_size=16, layers=1, heads=2), TrainablePolicy)
    True
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:
    import numpy as np
    import torch

    from .policy import Encoded, FrozenPrefix, Prompt

__all__ = ["TrainablePolicy"]


@runtime_checkable
class TrainablePolicy(Protocol):
    """A policy the stages can prompt, sample, score, train, save and copy.

    Attributes:
        device: where its tensors live (log-probs come back there).
        constraint: a grammar constraint it samples and scores under, or ``None``.
    """

    device: Any
    constraint: Any

    @property
    def eos_token_id(self) -> int:
        """The token that ends a response (appended to SFT targets)."""
        ...

    def prompt(self, observation: str, frame: np.ndarray | None = None) -> Prompt:
        """The model's input for one observation (and, for a vision model, its frame)."""
        ...

    def encode(self, texts: Sequence[str]) -> list[list[int]]:
        """Token ids of each text, no special tokens added."""
        ...

    def encode_prompts(self, prompts: Sequence[Prompt]) -> list[Encoded]:
        """Each prompt as the model takes it."""
        ...

    def decode(self, ids: Sequence[int]) -> str:
        """The text of a response's ids."""
        ...

    def sample(
        self, prompts: Sequence[Prompt], temperature: float, *, max_new_tokens: int, batch_size: int = 128
    ) -> list[list[int]]:
        """One response per prompt (its ids, EOS included where sampled), under ``constraint`` if any."""
        ...

    def response_logprobs(
        self,
        prompts: Sequence[Encoded],
        responses: Sequence[list[int]],
        response_masks: torch.Tensor | None = None,
        frozen: FrozenPrefix | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Per-token log-probs of each response, ``(B, T)``, and the response mask (``frozen`` may be ignored)."""
        ...

    def train(self, mode: bool = True) -> None:
        """Training mode (dropout on) or, with ``mode=False``, evaluation mode."""
        ...

    def trainable_parameters(self) -> list[torch.nn.Parameter]:
        """The parameters an optimizer updates."""
        ...

    def with_constraint(self, constraint: Any) -> TrainablePolicy:
        """The same policy (same weights) sampling under ``constraint``."""
        ...

    def copy(self) -> TrainablePolicy:
        """A policy whose trainable weights are its own (frozen ones may be shared)."""
        ...

    def save(self, directory: str | Path) -> None:
        """Write what the run's ``load`` reads back."""
        ...
