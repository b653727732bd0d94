"""Mu-law camera quantizer (VPT's ``CameraQuantizer``), with every parameter explicit.

Projects use the same formula with different parameters, which is a common source of confusion: VPT and
MineStudio use ``M=10, B=2, mu=10`` (11 bins), OpenHA's reserved tokens ``M=10, B=1, mu=20`` (21 bins).

encode (degrees → bin):  ``x = clip(x, -M, M)``; ``y = sign(x)·M·ln(1 + mu·|x|/M)/ln(1 + mu)``;
``b = round((y + M)/B)`` (round half to even, as numpy).
decode (bin → degrees):  ``v = b·B − M``; ``x = sign(v)·(M/mu)·((1 + mu)^(|v|/M) − 1)``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = ["OPENHA_CAMERA", "VPT_CAMERA", "CameraQuantizer"]


@dataclass(frozen=True)
class CameraQuantizer:
    """Quantize a camera component (degrees) into ``n_bins`` mu-law bins and back.

    Args:
        maxval: ``M``, the clip bound in degrees.
        binsize: ``B``, the bin width in the mu-law-encoded domain.
        mu: the mu-law compression parameter (> 0).

    Examples:
        >>> VPT_CAMERA.n_bins, VPT_CAMERA.null_bin
        (11, 5)
        >>> int(VPT_CAMERA.encode(1.0)), round(float(VPT_CAMERA.decode(6)), 4)
        (6, 0.6154)
    """

    maxval: float
    binsize: float
    mu: float
    n_bins: int = field(init=False)
    null_bin: int = field(init=False)

    def __post_init__(self) -> None:
        for name in ("maxval", "binsize", "mu"):
            value = getattr(self, name)
            if not np.isfinite(value) or value <= 0:
                raise ValueError(f"CameraQuantizer.{name} must be a finite number > 0, got {value!r}")
        steps = 2 * self.maxval / self.binsize
        if abs(steps - round(steps)) > 1e-9:
            raise ValueError(
                f"CameraQuantizer: 2·maxval/binsize must be an integer, got {steps!r} "
                f"(maxval={self.maxval!r}, binsize={self.binsize!r})"
            )
        object.__setattr__(self, "n_bins", round(steps) + 1)
        object.__setattr__(self, "null_bin", round(self.maxval / self.binsize))

    def encode(self, degrees: ArrayLike) -> NDArray[np.int64]:
        """Bin index of each camera value (degrees); values beyond ±maxval are clipped first.

        Returns an array of the input's shape (0-d for a scalar; ``int()`` it).
        """
        x = np.asarray(degrees, dtype=np.float64)
        if not np.all(np.isfinite(x)):
            raise ValueError(f"camera values must be finite, got {x.tolist()!r}")
        m = self.maxval
        x = np.clip(x, -m, m)
        y = np.sign(x) * m * np.log1p(self.mu * np.abs(x) / m) / np.log1p(self.mu)
        bins: NDArray[np.int64] = np.round((y + m) / self.binsize).astype(np.int64)
        return bins

    def decode(self, bins: ArrayLike) -> NDArray[np.float64]:
        """Camera value (degrees) at the centre of each bin; an array of the input's shape."""
        b = np.asarray(bins)
        if not np.issubdtype(b.dtype, np.integer):
            raise ValueError(f"camera bins must be integers, got dtype {b.dtype}")
        if np.any((b < 0) | (b >= self.n_bins)):
            raise ValueError(f"camera bins must lie in 0..{self.n_bins - 1}, got {b.tolist()!r}")
        return self._mu_law_inverse(b * self.binsize - self.maxval)

    def _mu_law_inverse(self, v: NDArray[np.floating]) -> NDArray[np.float64]:
        out: NDArray[np.float64] = (
            np.sign(v) * (self.maxval / self.mu) * (np.power(1.0 + self.mu, np.abs(v) / self.maxval) - 1.0)
        ).astype(np.float64)
        return out

    @property
    def centres(self) -> NDArray[np.float64]:
        """The value of every bin, in degrees, from bin 0 to ``n_bins - 1``."""
        return self.decode(np.arange(self.n_bins))

    @property
    def edges(self) -> NDArray[np.float64]:
        """The ``n_bins - 1`` boundaries between neighbouring bins, in degrees (the decode of odd half-steps)."""
        return self._mu_law_inverse((np.arange(self.n_bins - 1) + 0.5) * self.binsize - self.maxval)


#: VPT / MineStudio quantizer: 11 bins, null bin 5.
VPT_CAMERA = CameraQuantizer(maxval=10, binsize=2, mu=10)
#: OpenHA reserved-token quantizer: 21 bins, null bin 10.
OPENHA_CAMERA = CameraQuantizer(maxval=10, binsize=1, mu=20)
