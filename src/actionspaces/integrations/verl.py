"""A custom reward for verl: ``custom_reward_function.path=<this file>`` and ``name=compute_score``.

verl calls ``compute_score(data_source, solution_str, ground_truth, extra_info)`` once per response.
``ground_truth`` is the reference response (any space); ``extra_info`` may carry ``"state"`` (a mapping
of :class:`~actionspaces.ViewState` fields), ``"mode"`` (``"tolerance"`` or ``"openha_strl"``) and
``"camera_tol_deg"``.

Examples:
    >>> compute_score("craftworld", "Action: move(0, 0) and press(w)", "Motion: move forward")
    1.0
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

# absolute imports: verl loads this file by its path, as a module outside the package
from actionspaces.integrations._common import view_state
from actionspaces.rewards import action_match_reward

__all__ = ["compute_score"]

_OPTIONS = ("state", "mode", "camera_tol_deg")


def compute_score(
    data_source: str,
    solution_str: str,
    ground_truth: str,
    extra_info: Mapping[str, Any] | None = None,
    **kwargs: Any,
) -> float:
    """The action-space-independent match of ``solution_str`` (the model's) against ``ground_truth``."""
    info = dict(extra_info or {})
    mode = info.get("mode", "tolerance")
    if mode not in ("tolerance", "openha_strl"):
        raise ValueError(f"extra_info['mode'] must be 'tolerance' or 'openha_strl', got {mode!r}")
    return action_match_reward(
        solution_str,
        ground_truth,
        state=view_state(info.get("state")),
        mode=mode,
        camera_tol_deg=float(info.get("camera_tol_deg", 1e-6)),
    )
