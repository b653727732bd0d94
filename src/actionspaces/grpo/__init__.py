"""GRPO building blocks as pure functions over torch tensors (install the ``train`` extra).

Advantages (single-step, trajectory-level, GiGPO steps), the clipped policy loss with TRL's and verl's
options and normalisers, memory-lean per-token log-probs; and, re-exported from the torch-free core, the
CrossHA rewards (:mod:`actionspaces.rewards`) and the token cost (:mod:`actionspaces.token_cost`).

Examples:
    >>> import torch
    >>> from actionspaces.grpo import group_advantages, policy_loss
    >>> adv = group_advantages(torch.tensor([1.0, 0.0, 1.0, 1.0]), 2)
    >>> logp = torch.zeros(4, 3, requires_grad=True)
    >>> loss, metrics = policy_loss(logp, None, adv, torch.ones(4, 3), aggregation="grpo")
    >>> loss.backward(); logp.grad[0].tolist()
    [-0.058..., -0.058..., -0.058...]
"""

try:
    import torch  # noqa: F401
except ImportError as err:  # pragma: no cover - exercised only without the extra
    raise ImportError("actionspaces.grpo needs PyTorch: pip install 'actionspaces[train]' (torch>=2.4)") from err

from ..rewards import action_match_reward, episode_success, format_reward, parse_task
from ..token_cost import TokenCounter, episode_return, token_penalized_return
from .advantages import (
    EPS_TRL,
    EPS_VERL,
    broadcast_to_tokens,
    group_advantages,
    step_advantages,
    trajectory_advantages,
)
from .logprobs import token_logprobs, token_logprobs_from_hidden
from .loss import AGGREGATIONS, aggregate, kl_penalty, policy_loss

__all__ = [
    "AGGREGATIONS",
    "EPS_TRL",
    "EPS_VERL",
    "TokenCounter",
    "action_match_reward",
    "aggregate",
    "broadcast_to_tokens",
    "episode_return",
    "episode_success",
    "format_reward",
    "group_advantages",
    "kl_penalty",
    "parse_task",
    "policy_loss",
    "step_advantages",
    "token_logprobs",
    "token_logprobs_from_hidden",
    "token_penalized_return",
    "trajectory_advantages",
]
