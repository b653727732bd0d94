"""Latent actions: a codebook of 4-tick action chunks fit on expert data, and the controller that plays them."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ..canonical import BUTTONS, CanonicalAction
from ..spaces import LatentAction
from ..spaces.latent import latent_token
from ..state import ControlState
from .base import Controller

__all__ = ["CAMERA_SCALE_DEG", "LATENT_CHUNK_TICKS", "LatentCodebook", "LatentController"]

#: Camera degrees that weigh as much as one button in the chunk distance.
CAMERA_SCALE_DEG = 10.0
_FORMAT = "actionspaces.LatentCodebook/1"


def _vector(tick: CanonicalAction) -> np.ndarray:
    v = np.zeros(len(BUTTONS) + 2)
    for i, b in enumerate(BUTTONS):
        if b in tick.buttons:
            v[i] = 1.0
    v[-2:] = np.asarray(tick.camera) / CAMERA_SCALE_DEG
    return v


def _tick(v: np.ndarray) -> CanonicalAction:
    buttons = frozenset(b for i, b in enumerate(BUTTONS) if v[i] > 0.5)
    pitch, yaw = (float(np.clip(c * CAMERA_SCALE_DEG, -180, 180)) for c in v[-2:])
    return CanonicalAction(buttons=buttons, camera=(pitch, yaw))


#: Env ticks per latent code: the chunk a codebook's centroids and the expert's latent labels are cut into.
LATENT_CHUNK_TICKS = 4


class LatentCodebook:
    """``size`` codes, each a chunk of ``chunk_ticks`` env actions (k-means centroids of expert chunks).

    Satisfies :class:`~actionspaces.spaces.ChunkDecoder`, so ``LatentSpace(decoder=codebook)`` can
    canonicalize latent actions.

    Examples:
        >>> fwd, turn = CanonicalAction(buttons=frozenset({"forward"})), CanonicalAction(camera=(0.0, 5.0))
        >>> book = LatentCodebook.fit([[fwd] * 4, [turn] * 4, [fwd] * 4], size=2)
        >>> book.size, book.encode([turn] * 4)
        (2, [1])
        >>> book.decode([book.encode([fwd] * 4)[0]])[0] == fwd
        True
    """

    def __init__(self, centroids: np.ndarray, chunk_ticks: int = LATENT_CHUNK_TICKS) -> None:
        centroids = np.asarray(centroids, dtype=np.float64)
        width = len(BUTTONS) + 2
        if centroids.ndim != 3 or centroids.shape[1] != chunk_ticks or centroids.shape[2] != width:
            raise ValueError(f"centroids must have shape (size, {chunk_ticks}, {width}), got {centroids.shape}")
        if not np.isfinite(centroids).all():
            raise ValueError("centroids contain NaN or inf")
        self.centroids = centroids
        self.chunk_ticks = chunk_ticks

    @property
    def size(self) -> int:
        """Number of codes."""
        return len(self.centroids)

    @property
    def tokens(self) -> list[str]:
        """The ``<|latent_N|>`` token of each code, in code order: what a tokenizer must hold as single tokens."""
        return [latent_token(code) for code in range(self.size)]

    @classmethod
    def fit(
        cls,
        chunks: Sequence[Sequence[CanonicalAction]],
        *,
        size: int = 64,
        chunk_ticks: int = LATENT_CHUNK_TICKS,
        iterations: int = 25,
        seed: int = 0,
    ) -> LatentCodebook:
        """k-means (k-means++ seeding, Lloyd iterations) over chunks of ``chunk_ticks`` actions.

        With fewer distinct chunks than ``size``, the codebook has one code per distinct chunk.

        Raises:
            ValueError: ``size`` < 1, no chunks, or a chunk of other than ``chunk_ticks`` actions.
            TypeError: a tick is not a :class:`CanonicalAction` (a MineRL dict: use ``CanonicalAction.from_env``).
        """
        if size < 1:
            raise ValueError(f"size must be >= 1, got {size}")
        bad = [i for i, c in enumerate(chunks) if len(c) != chunk_ticks]
        if bad:
            raise ValueError(f"chunks {bad[:5]} do not have {chunk_ticks} ticks")
        if not chunks:
            raise ValueError("cannot fit a codebook on no chunks")
        wrong = next(((i, t) for i, c in enumerate(chunks) for t in c if not isinstance(t, CanonicalAction)), None)
        if wrong is not None:  # a MineRL dict would otherwise fail deep in the vectorising
            raise TypeError(
                f"chunk {wrong[0]} holds a {type(wrong[1]).__name__}, not a CanonicalAction "
                "(convert env actions with CanonicalAction.from_env)"
            )
        data = np.stack([np.concatenate([_vector(t) for t in c]) for c in chunks])
        distinct = np.unique(data, axis=0)
        k = min(size, len(distinct))
        rng = np.random.default_rng(seed)
        centres = [distinct[rng.integers(len(distinct))]]
        d2 = ((distinct - centres[0]) ** 2).sum(1)
        for _ in range(1, k):
            probs = d2 / d2.sum() if d2.sum() > 0 else None
            centres.append(distinct[rng.choice(len(distinct), p=probs)])
            d2 = np.minimum(d2, ((distinct - centres[-1]) ** 2).sum(1))
        c = np.stack(centres)
        for _ in range(iterations):
            assign = _nearest(data, c)
            new = np.stack([data[assign == j].mean(0) if (assign == j).any() else c[j] for j in range(k)])
            if np.allclose(new, c):
                break
            c = new
        return cls(c.reshape(k, chunk_ticks, -1), chunk_ticks)

    def encode(self, ticks: Sequence[CanonicalAction]) -> list[int]:
        """Codes for ``ticks``, one per chunk (a short last chunk is padded with no-ops)."""
        if not ticks:
            raise ValueError("nothing to encode")
        padded = list(ticks) + [CanonicalAction()] * (-len(ticks) % self.chunk_ticks)
        vectors = np.stack([_vector(t) for t in padded]).reshape(-1, self.chunk_ticks * (len(BUTTONS) + 2))
        return [int(i) for i in _nearest(vectors, self.centroids.reshape(self.size, -1))]

    def decode(self, codes: Sequence[int]) -> list[CanonicalAction]:
        """The env actions, tick by tick, of ``codes``."""
        out = []
        for code in codes:
            if not 0 <= code < self.size:
                raise ValueError(f"code {code} is outside this codebook of {self.size}")
            out += [_tick(v) for v in self.centroids[code]]
        return out

    def save(self, path: str | Path) -> None:
        """Write the codebook as JSON (format, chunk length, button order, centroids)."""
        payload = {
            "format": _FORMAT,
            "chunk_ticks": self.chunk_ticks,
            "buttons": list(BUTTONS),
            "camera_scale_deg": CAMERA_SCALE_DEG,
            "centroids": self.centroids.round(6).tolist(),
        }
        Path(path).write_text(json.dumps(payload))

    @classmethod
    def load(cls, path: str | Path) -> LatentCodebook:
        """Read a codebook written by :meth:`save`."""
        try:
            payload = json.loads(Path(path).read_text())
        except FileNotFoundError:
            raise FileNotFoundError(f"no codebook file at {path}") from None
        except json.JSONDecodeError as err:
            raise ValueError(f"{path} is not a codebook file: {err}") from None
        if not isinstance(payload, dict) or payload.get("format") != _FORMAT:
            raise ValueError(f"{path} is not a {_FORMAT} file")
        if payload.get("buttons") != list(BUTTONS) or payload.get("camera_scale_deg") != CAMERA_SCALE_DEG:
            raise ValueError(f"{path} was written with a different action layout")
        return cls(np.asarray(payload["centroids"]), int(payload["chunk_ticks"]))

    def __repr__(self) -> str:
        return f"LatentCodebook(size={self.size}, chunk_ticks={self.chunk_ticks})"


def _nearest(x: np.ndarray, c: np.ndarray) -> np.ndarray:
    d = (x**2).sum(1)[:, None] - 2 * x @ c.T + (c**2).sum(1)[None, :]
    return np.asarray(np.argmin(d, axis=1))


class LatentController(Controller[LatentAction]):
    """Plays the chunks of a latent action's codes, tick by tick."""

    space = "latent"

    def __init__(self, codebook: LatentCodebook) -> None:
        self.codebook = codebook
        self._ticks: list[CanonicalAction] = []

    def start(self, action: LatentAction, state: ControlState) -> None:
        """Decode the codes."""
        self._ticks = self.codebook.decode(action.codes)

    def step(self, state: ControlState) -> tuple[CanonicalAction, bool]:
        """The next tick of the decoded chunks."""
        if not self._ticks:
            raise RuntimeError("LatentController.step before start (or after its last tick)")
        return self._ticks.pop(0), not self._ticks
