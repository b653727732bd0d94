"""Packed llguidance token masks: unpacked to booleans, and the log-probs of the masked distribution."""

from __future__ import annotations

import torch

from ..grpo.logprobs import token_logprobs

__all__ = ["allowed_tokens", "masked_token_logprobs"]


def allowed_tokens(bitmask: torch.Tensor, vocab_size: int) -> torch.Tensor:
    """Unpack ``(..., words)`` int32 masks into ``(..., vocab_size)`` booleans; ids past the mask are False.

    Examples:
        >>> allowed_tokens(torch.tensor([5], dtype=torch.int32), 4)  # bits 0 and 2
        tensor([ True, False,  True, False])
    """
    if bitmask.dtype != torch.int32:
        raise TypeError(f"bitmask must be int32 (llguidance's packed words), got {bitmask.dtype}")
    bits = torch.arange(32, dtype=torch.int32, device=bitmask.device)
    unpacked = ((bitmask.unsqueeze(-1) >> bits) & 1).flatten(-2).bool()
    width = unpacked.shape[-1]
    if width >= vocab_size:
        return unpacked[..., :vocab_size]
    pad = unpacked.new_zeros((*unpacked.shape[:-1], vocab_size - width))
    return torch.cat([unpacked, pad], dim=-1)


def masked_token_logprobs(
    logits: torch.Tensor, ids: torch.Tensor, bitmask: torch.Tensor, *, temperature: float = 1.0
) -> torch.Tensor:
    """Log-probs of ``ids`` under the *masked* distribution, ``log softmax(logits / τ over allowed ids)``.

    When responses are sampled under a grammar mask, the sampling distribution is the renormalised
    masked one; GRPO's ratio and KL must use it too, or every step is off-policy by the probability
    mass the mask removed.

    Args:
        logits: ``(B, T, V)`` logits at the response positions.
        ids: ``(B, T)`` sampled ids.
        bitmask: ``(B, T, words)`` packed masks (:attr:`ActionLogitsProcessor.bitmasks` or
            :meth:`GrammarConstraint.replay_masks`).
        temperature: the sampling temperature.

    Raises:
        ValueError: a sampled id is outside its mask (the responses were not sampled under it).

    Examples:
        >>> logits = torch.zeros(1, 1, 4)
        >>> mask = torch.tensor([[[0b0011]]], dtype=torch.int32)  # ids 0 and 1 allowed
        >>> masked_token_logprobs(logits, torch.tensor([[1]]), mask)
        tensor([[-0.6931]])
    """
    if bitmask.shape[:-1] != ids.shape:
        raise ValueError(f"bitmask {tuple(bitmask.shape)} must be ids' shape {tuple(ids.shape)} plus the word axis")
    allowed = allowed_tokens(bitmask.to(logits.device), logits.shape[-1])
    inside = allowed.gather(-1, ids.long().clamp(0, logits.shape[-1] - 1).unsqueeze(-1)).squeeze(-1)
    if not bool(inside.all()):
        where = tuple(int(i) for i in (~inside).nonzero()[0])
        raise ValueError(f"sampled id {int(ids[where])} at position {where} is outside its grammar mask")
    return token_logprobs(logits.masked_fill(~allowed, float("-inf")), ids, temperature=temperature)
