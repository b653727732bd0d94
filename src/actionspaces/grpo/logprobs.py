"""Per-token log-probabilities of sampled ids, without a full ``(B, T, V)`` log-softmax.

:func:`token_logprobs` works from logits in chunks of a few rows, small enough to stay in the CPU's
cache, so the only ``V``-wide temporaries are one chunk's and the pass is faster than a whole-tensor one.
:func:`token_logprobs_from_hidden` goes further and never builds the logits: it multiplies hidden states
by the LM head one chunk of rows at a time, and its backward pass recomputes each chunk's logits instead
of keeping them (the approach of Liger's fused linear losses), so memory stays flat as the batch grows.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch

__all__ = ["DEFAULT_CHUNK_BYTES", "DEFAULT_HIDDEN_CHUNK_BYTES", "token_logprobs", "token_logprobs_from_hidden"]

#: Working memory per chunk of rows for the softmax, in bytes of float32 logits (8 MiB: 13 rows at
#: V = 151,936). Chunks that stay in the CPU's cache make the softmax several times faster than one pass
#: over the whole tensor (measured in benchmarks/bench_grpo.py).
DEFAULT_CHUNK_BYTES = 8 * 2**20
#: The same for the LM-head path (256 MiB: ~440 rows), where bigger chunks make faster matrix products.
DEFAULT_HIDDEN_CHUNK_BYTES = 256 * 2**20


def _rows_per_chunk(vocab: int, chunk_rows: int | None, budget: int = DEFAULT_CHUNK_BYTES) -> int:
    if chunk_rows is not None:
        if chunk_rows < 1:
            raise ValueError(f"chunk_rows must be >= 1, got {chunk_rows}")
        return chunk_rows
    return max(1, budget // (4 * max(vocab, 1)))


def _check_ids(ids: torch.Tensor, lead: torch.Size, vocab: int, what: str) -> None:
    if ids.shape != lead:
        raise ValueError(f"ids must have shape {tuple(lead)} to match the {what}, got {tuple(ids.shape)}")
    if ids.dtype not in (torch.int64, torch.int32, torch.int16, torch.uint8):
        raise TypeError(f"ids must be an integer tensor, got {ids.dtype}")
    if ids.numel() and (int(ids.min()) < 0 or int(ids.max()) >= vocab):
        raise ValueError(f"ids must lie in [0, {vocab}), got values in [{int(ids.min())}, {int(ids.max())}]")


def _check_temperature(temperature: float) -> None:
    if not temperature > 0 or temperature == float("inf"):
        raise ValueError(f"temperature must be a positive finite number, got {temperature}")


def token_logprobs(
    logits: torch.Tensor, ids: torch.Tensor, *, temperature: float = 1.0, chunk_rows: int | None = None
) -> torch.Tensor:
    """``log softmax(logits / temperature)[..., ids]`` in float32, one chunk of rows at a time.

    Args:
        logits: ``(..., V)``, any float dtype (each chunk is upcast to float32).
        ids: the sampled ids, shaped as ``logits`` without its last dimension.
        temperature: the sampling temperature; logits are divided by it (as TRL does), never in place.
        chunk_rows: rows per chunk; by default sized to :data:`DEFAULT_CHUNK_BYTES`.

    Returns:
        Float32 log-probs shaped like ``ids``; differentiable with respect to ``logits``. A ``-inf`` logit
        on the chosen id (a masked token) gives ``-inf``: probability zero.

    Raises:
        ValueError: a row has a NaN or ``+inf`` logit, or every logit ``-inf``: its log-softmax is undefined
            (the message names the first such row and why).

    Examples:
        >>> logits = torch.tensor([[[0.0, 0.0, 0.0, 0.0], [2.0, 0.0, 0.0, 0.0]]])
        >>> token_logprobs(logits, torch.tensor([[1, 0]]))
        tensor([[-1.3863, -0.3408]])
        >>> token_logprobs(torch.tensor([[0.0, float("inf")]]), torch.tensor([0]))
        Traceback (most recent call last):
        ...
        ValueError: logits row 0 has no log-softmax: it holds a +inf logit (1 of 1 rows are undefined)
    """
    if logits.ndim < 1 or not logits.is_floating_point():
        raise TypeError(f"logits must be a floating tensor with a vocabulary axis, got {logits.dtype}")
    _check_temperature(temperature)
    vocab = logits.shape[-1]
    _check_ids(ids, logits.shape[:-1], vocab, "logits")
    flat = logits.reshape(-1, vocab)
    out = _LogitLogprobs.apply(  # type: ignore[no-untyped-call]
        flat, ids.reshape(-1).long(), temperature, _rows_per_chunk(vocab, chunk_rows)
    )
    _check_defined(out, lambda rows: flat[rows], "logits")
    return out.reshape(ids.shape)  # type: ignore[no-any-return]


def _check_defined(out: torch.Tensor, row_logits: Callable[[torch.Tensor], torch.Tensor], what: str) -> None:
    """Raise when a row's log-softmax is undefined (NaN out): a NaN or +inf logit, or every logit -inf."""
    bad = torch.isnan(out)
    if not bool(bad.any()):  # one check per call: it waits for the device
        return
    rows = bad.nonzero().flatten()
    first = row_logits(rows[:1]).float()[0]
    if bool(torch.isnan(first).any()):
        why = "it holds a NaN logit"
    elif bool(torch.isposinf(first).any()):
        why = "it holds a +inf logit"
    else:
        why = "every logit is -inf"
    raise ValueError(
        f"{what} row {int(rows[0])} has no log-softmax: {why} ({len(rows)} of {out.numel()} rows are undefined)"
    )


class _LogitLogprobs(torch.autograd.Function):
    """Chunked ``log_softmax(logits / τ)[id]``; backward writes one gradient tensor chunk by chunk.

    Autograd through sliced chunks would allocate a full-size zero gradient per chunk; this writes each
    chunk's ``(onehot − softmax) · g / τ`` straight into a single gradient buffer instead.
    """

    @staticmethod
    def forward(ctx: Any, logits: torch.Tensor, ids: torch.Tensor, temperature: float, step: int) -> torch.Tensor:
        out = torch.empty(logits.shape[0], dtype=torch.float32, device=logits.device)
        lse = torch.empty_like(out)
        _rows_forward(logits, ids, temperature=temperature, step=step, out=out, lse=lse)
        ctx.save_for_backward(logits, ids, lse)
        ctx.temperature, ctx.step = temperature, step
        return out

    @staticmethod
    def backward(ctx: Any, grad_out: torch.Tensor) -> tuple[torch.Tensor | None, ...]:
        logits, ids, lse = ctx.saved_tensors
        grad = torch.empty_like(logits)
        _rows_backward(logits, lse, ids, grad_out, temperature=ctx.temperature, step=ctx.step, out=grad)
        return grad, None, None, None


def _rows_forward(
    logits: torch.Tensor, ids: torch.Tensor, *, temperature: float, step: int, out: torch.Tensor, lse: torch.Tensor
) -> None:
    """Fill ``out`` with the log-probs of ``ids`` and ``lse`` with the logsumexp, ``step`` rows at a time."""
    for start in range(0, logits.shape[0], step):
        stop = start + step
        chunk = _scaled(logits[start:stop], temperature)
        index = ids[start:stop, None]
        logp = torch.log_softmax(chunk, dim=-1).gather(-1, index).squeeze(-1)
        out[start:stop] = logp
        lse[start:stop] = chunk.gather(-1, index).squeeze(-1) - logp
    # A -inf target logit (a masked token) left -inf - -inf = NaN in lse: recompute those rows, checked
    # once per call rather than per chunk (each check waits for the device).
    masked = torch.isneginf(out)
    if masked.any():
        lse[masked] = torch.logsumexp(_scaled(logits[masked], temperature), dim=-1)


def _rows_backward(
    logits: torch.Tensor,
    lse: torch.Tensor,
    ids: torch.Tensor,
    grad_out: torch.Tensor,
    *,
    temperature: float,
    step: int,
    out: torch.Tensor,
) -> None:
    """Write d(sum g·logp)/d logits into ``out`` (which may be ``logits`` itself), ``step`` rows at a time."""
    for start in range(0, logits.shape[0], step):
        stop = start + step
        rows = (lse[start:stop], ids[start:stop], grad_out[start:stop])
        if out.dtype == torch.float32:  # computed in place in the output buffer
            _softmax_grad(logits[start:stop], *rows, temperature=temperature, out=out[start:stop])
        else:
            out[start:stop] = _softmax_grad(logits[start:stop], *rows, temperature=temperature)


def _scaled(logits: torch.Tensor, temperature: float) -> torch.Tensor:
    logits = logits.float()
    return logits / temperature if temperature != 1.0 else logits


def _softmax_grad(
    logits: torch.Tensor,
    lse: torch.Tensor,
    ids: torch.Tensor,
    grad_out: torch.Tensor,
    *,
    temperature: float,
    out: torch.Tensor | None = None,
) -> torch.Tensor:
    """d(logits[id]/τ − logsumexp(logits/τ)) / d logits, times the upstream gradient: (onehot − p)·g/τ.

    Written into ``out`` (float32, may be ``logits`` itself) when given: three passes, no temporaries.
    """
    g = grad_out[:, None].float() / temperature
    if temperature == 1.0:
        p = torch.sub(logits, lse[:, None], out=out) if out is not None else logits.float() - lse[:, None]
    else:
        p = torch.div(logits, temperature, out=out) if out is not None else logits.float() / temperature
        p.sub_(lse[:, None])
    p.exp_().mul_(-g)
    return p.scatter_add_(-1, ids[:, None], g)


class _HiddenLogprobs(torch.autograd.Function):
    """Chunked ``log_softmax(h @ W.T + b)[id]`` whose backward recomputes each chunk's logits."""

    @staticmethod
    def forward(  # noqa: PLR0917 - autograd passes inputs positionally
        ctx: Any,
        hidden: torch.Tensor,
        weight: torch.Tensor,
        bias: torch.Tensor | None,
        ids: torch.Tensor,
        temperature: float,
        step: int,
    ) -> torch.Tensor:
        out = torch.empty(hidden.shape[0], dtype=torch.float32, device=hidden.device)
        lse = torch.empty_like(out)
        softmax_step = _rows_per_chunk(weight.shape[0], None)
        for start in range(0, hidden.shape[0], step):
            stop = start + step
            logits = _chunk_logits(hidden[start:stop], weight, bias)
            _rows_forward(
                logits,
                ids[start:stop],
                temperature=temperature,
                step=softmax_step,
                out=out[start:stop],
                lse=lse[start:stop],
            )
        ctx.save_for_backward(hidden, weight, bias, ids, lse)
        ctx.temperature, ctx.step = temperature, step
        return out

    @staticmethod
    def backward(ctx: Any, grad_out: torch.Tensor) -> tuple[torch.Tensor | None, ...]:
        hidden, weight, bias, ids, lse = ctx.saved_tensors
        temperature, step = ctx.temperature, ctx.step
        need_h, need_w, need_b = ctx.needs_input_grad[:3]
        softmax_step = _rows_per_chunk(weight.shape[0], None)
        grad_h = torch.zeros_like(hidden) if need_h else None
        grad_w = torch.zeros(weight.shape, dtype=torch.float32, device=weight.device) if need_w else None
        grad_b = torch.zeros(weight.shape[0], dtype=torch.float32, device=weight.device) if need_b else None
        for start in range(0, hidden.shape[0], step):
            stop = start + step
            h = hidden[start:stop]
            grad_logits = _chunk_logits(h, weight, bias)  # overwritten in place by its own gradient
            rows = (lse[start:stop], ids[start:stop], grad_out[start:stop])
            _rows_backward(grad_logits, *rows, temperature=temperature, step=softmax_step, out=grad_logits)
            if grad_h is not None:
                grad_h[start:stop] = (grad_logits.to(weight.dtype) @ weight).to(hidden.dtype)
            if grad_w is not None:
                grad_w.addmm_(grad_logits.T, h.float())
            if grad_b is not None:
                grad_b += grad_logits.sum(0)
        return (
            grad_h,
            grad_w.to(weight.dtype) if grad_w is not None else None,
            grad_b.to(bias.dtype) if grad_b is not None and bias is not None else None,
            None,
            None,
            None,
        )


def _chunk_logits(h: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None) -> torch.Tensor:
    """One chunk's float32 logits, a fresh tensor (callers may overwrite it)."""
    return (h @ weight.T if bias is None else torch.addmm(bias, h, weight.T)).float()


def token_logprobs_from_hidden(
    hidden: torch.Tensor,
    weight: torch.Tensor,
    ids: torch.Tensor,
    *,
    bias: torch.Tensor | None = None,
    temperature: float = 1.0,
    chunk_rows: int | None = None,
) -> torch.Tensor:
    """Log-probs of ``ids`` under ``softmax((hidden @ weight.T + bias) / temperature)``, logits never whole.

    Args:
        hidden: ``(..., H)`` final hidden states (after the last norm), positions aligned with ``ids``.
        weight: ``(V, H)``, the LM head's weight (``model.lm_head.weight``; tied embeddings work too).
        ids: the sampled ids, shaped as ``hidden`` without its last dimension.
        bias: optional ``(V,)`` LM-head bias.
        temperature: sampling temperature.
        chunk_rows: rows per chunk; by default sized to :data:`DEFAULT_HIDDEN_CHUNK_BYTES`.

    Returns:
        Float32 log-probs shaped like ``ids``, differentiable with respect to ``hidden``, ``weight`` and
        ``bias``; equal to the naive ``log_softmax(lm_head(hidden)).gather(...)`` in value and gradient.

    Raises:
        ValueError: a row's logits hold a NaN or ``+inf``, or are all ``-inf`` (see :func:`token_logprobs`).

    Examples:
        >>> hidden, head = torch.randn(2, 3, 8), torch.nn.Linear(8, 50, bias=False)
        >>> ids = torch.randint(0, 50, (2, 3))
        >>> naive = torch.log_softmax(head(hidden), -1).gather(-1, ids[..., None]).squeeze(-1)
        >>> torch.allclose(token_logprobs_from_hidden(hidden, head.weight, ids), naive, atol=1e-5)
        True
    """
    if hidden.ndim < 1 or weight.ndim != 2 or hidden.shape[-1] != weight.shape[1]:
        raise ValueError(f"need hidden (..., H) and weight (V, H); got {tuple(hidden.shape)} and {tuple(weight.shape)}")
    if bias is not None and bias.shape != weight.shape[:1]:
        raise ValueError(f"bias must have shape ({weight.shape[0]},), got {tuple(bias.shape)}")
    _check_temperature(temperature)
    vocab = weight.shape[0]
    _check_ids(ids, hidden.shape[:-1], vocab, "hidden states")
    flat = hidden.reshape(-1, hidden.shape[-1])
    out = _HiddenLogprobs.apply(  # type: ignore[no-untyped-call]
        flat,
        weight,
        bias,
        ids.reshape(-1).long(),
        temperature,
        _rows_per_chunk(vocab, chunk_rows, DEFAULT_HIDDEN_CHUNK_BYTES),
    )
    _check_defined(out, lambda rows: _chunk_logits(flat[rows], weight, bias), "hidden-state")
    return out.reshape(ids.shape)  # type: ignore[no-any-return]
