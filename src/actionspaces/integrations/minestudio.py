"""MineStudio's learned controllers behind the library's protocols: STEVE-1 and GROOT skills, ROCKET-1 pointing.

CrossHA executes language actions with a skill policy and grounding actions with ROCKET-1. These adapters
put MineStudio's models (any ``MinePolicy``: ``get_action(input, state_in, deterministic=..., input_shape="*")``
returning VPT tokens) behind :class:`~actionspaces.controllers.SkillPolicy` and
:class:`~actionspaces.controllers.PointingPolicy`, so that ``SkillPolicyController`` and
``GroundingController(pointer=...)`` run them on ``MineStudioEnv``. They import nothing of MineStudio:
you load the model, they speak its input contract. The frame comes from ``ControlState.pov``
(``MineStudioEnv`` provides it); make the simulator's ``obs_size`` the model's input size (224×224 for
ROCKET-1 and GROOT, 128×128 for STEVE-1).

The contract, from MineStudio's source:

* **STEVE-1** (``SteveOnePolicy``): ``condition = model.prepare_condition({"cond_scale": s, "text": t})``
  once, then ``{"image": frame, "condition": condition}`` each tick.
* **GROOT** (``GrootPolicy``): a reference video instead of text, ``{"image": frame, "ref_video_path": p}``;
  the model caches the encoded video on ``model.condition``, which is cleared when the skill changes.
* **ROCKET-1** (``RocketPolicy``): ``{"image": frame, "segment": {"obj_id": c, "obj_mask": m}}``, where
  ``m`` is the object's mask (SAM-2 in the paper, tracked frame to frame) and ``c`` the interaction type.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Protocol, runtime_checkable

import numpy as np

from ..canonical import CanonicalAction
from ..state import ControlState
from ..vpt import VPTTokenizer

__all__ = [
    "ROCKET1_INTERACTIONS",
    "MineStudioSkillPolicy",
    "Rocket1PointingPolicy",
    "Segmenter",
    "agent_action",
]

#: ROCKET-1's interaction types by grounding verb (its numbering: hunt 0, mine 2, use 3, approach 6).
ROCKET1_INTERACTIONS: Mapping[str, int] = {
    "kill": 0,
    "mine": 2,
    "left_click": 2,
    "right_click": 3,
    "approach": 6,
    "move_to": 6,
}


def agent_action(action: Mapping[str, Any], tokenizer: VPTTokenizer | None = None) -> CanonicalAction:
    """The canonical action of a MineStudio agent action (``{"buttons": token, "camera": token}``).

    Examples:
        >>> tok = VPTTokenizer()
        >>> buttons, camera = tok.encode(CanonicalAction(buttons=frozenset({"forward"})))
        >>> agent_action({"buttons": np.array([buttons]), "camera": np.array([camera])}).buttons
        frozenset({'forward'})
    """
    if not isinstance(action, Mapping) or "buttons" not in action or "camera" not in action:
        raise ValueError(f"a MineStudio agent action is {{'buttons': ..., 'camera': ...}}, got {action!r}")
    tokens = []
    for key in ("buttons", "camera"):
        values = np.asarray(action[key].cpu() if hasattr(action[key], "cpu") else action[key]).reshape(-1)
        if values.size != 1:
            raise ValueError(f"agent action {key!r} must hold one token, got shape {np.shape(action[key])}")
        tokens.append(int(values[0]))
    return (tokenizer or VPTTokenizer()).decode(tokens[0], tokens[1])


def _frame(state: ControlState, who: str) -> np.ndarray:
    if state.pov is None:
        raise ValueError(f"{who} needs the frame (ControlState.pov); MineStudioEnv provides it, this env did not")
    frame = np.asarray(state.pov)
    if frame.ndim != 3 or frame.shape[2] != 3:
        raise ValueError(f"{who} needs an H×W×3 frame, got shape {frame.shape}")
    return frame


class MineStudioSkillPolicy:
    """A MineStudio skill model (STEVE-1, GROOT) as a :class:`~actionspaces.controllers.SkillPolicy`.

    Args:
        model: the loaded ``MinePolicy``.
        condition: the extra input of each tick for an instruction (see :meth:`steve1`, :meth:`groot`).
        deterministic: take the most likely action instead of sampling.

    Examples:
        >>> class Model:  # the contract: get_action(input, state_in, deterministic, input_shape) -> (action, state)
        ...     def get_action(self, input, state_in, deterministic=False, input_shape="*"):
        ...         return {"buttons": np.array([0]), "camera": np.array([60])}, state_in
        >>> policy = MineStudioSkillPolicy(Model(), lambda text: {"text": text})
        >>> from actionspaces import ViewState
        >>> state = ControlState(view=ViewState(), pitch=0.0, yaw=0.0, pov=np.zeros((128, 128, 3), np.uint8))
        >>> policy.start("chop a tree", state); policy.act(state) == CanonicalAction()
        True
    """

    def __init__(
        self,
        model: Any,
        condition: Callable[[str], Mapping[str, Any]],
        *,
        deterministic: bool = False,
        clears_model_condition: bool = False,
    ) -> None:
        if not callable(getattr(model, "get_action", None)):
            raise TypeError(f"model must be a MineStudio MinePolicy (with get_action), got {type(model).__name__}")
        self.model = model
        self.condition = condition
        self.deterministic = deterministic
        self.clears_model_condition = clears_model_condition
        self.tokenizer = VPTTokenizer()
        self._extra: Mapping[str, Any] | None = None
        self._memory: Any = None

    @classmethod
    def steve1(cls, model: Any, *, cond_scale: float = 4.0, deterministic: bool = False) -> MineStudioSkillPolicy:
        """STEVE-1: the instruction's text, through ``model.prepare_condition`` with ``cond_scale``."""
        if not callable(getattr(model, "prepare_condition", None)):
            raise TypeError("STEVE-1's model must have prepare_condition (MineStudio's SteveOnePolicy)")

        def condition(text: str) -> Mapping[str, Any]:
            return {"condition": model.prepare_condition({"cond_scale": cond_scale, "text": text})}

        return cls(model, condition, deterministic=deterministic)

    @classmethod
    def groot(
        cls, model: Any, reference_videos: Mapping[str, str], *, deterministic: bool = False
    ) -> MineStudioSkillPolicy:
        """GROOT: a reference video per instruction (``{"chop a tree": "videos/chop.mp4", ...}``)."""
        videos = dict(reference_videos)

        def condition(text: str) -> Mapping[str, Any]:
            if text not in videos:
                raise KeyError(f"GROOT has no reference video for the skill {text!r}; it has {sorted(videos)}")
            return {"ref_video_path": videos[text]}

        return cls(model, condition, deterministic=deterministic, clears_model_condition=True)

    def start(self, instruction: str, state: ControlState) -> None:
        """Condition the model on ``instruction`` and start a fresh memory."""
        self._extra = dict(self.condition(instruction))
        self._memory = None
        if self.clears_model_condition:
            self.model.condition = None  # GROOT caches the last encoded video

    def act(self, state: ControlState) -> CanonicalAction:
        """One tick of the model on the current frame."""
        if self._extra is None:
            raise RuntimeError("MineStudioSkillPolicy.act before start")
        frame = _frame(state, "MineStudioSkillPolicy")
        action, self._memory = self.model.get_action(
            {"image": frame, **self._extra}, self._memory, deterministic=self.deterministic, input_shape="*"
        )
        return agent_action(action, self.tokenizer)


@runtime_checkable
class Segmenter(Protocol):
    """Turns a point into an object mask and tracks it frame to frame (SAM-2's role for ROCKET-1)."""

    def segment(self, frame: np.ndarray, point: tuple[float, float]) -> np.ndarray:
        """The ``H×W`` mask of the object at ``point`` (frame pixels) in ``frame``."""
        ...

    def track(self, frame: np.ndarray) -> np.ndarray:
        """The same object's mask in the next frame."""
        ...


class Rocket1PointingPolicy:
    """ROCKET-1 as a :class:`~actionspaces.controllers.PointingPolicy`: mask the object at the point, then act.

    Args:
        model: the loaded ``RocketPolicy``.
        segmenter: turns the point into a mask and tracks it (:class:`Segmenter`).
        interactions: the interaction type of each verb (:data:`ROCKET1_INTERACTIONS`).
        deterministic: take the most likely action instead of sampling.

    The point arrives in window pixels (the ``ControlState``'s view) and is scaled to the frame's size.
    """

    def __init__(
        self,
        model: Any,
        segmenter: Segmenter,
        *,
        interactions: Mapping[str, int] = ROCKET1_INTERACTIONS,
        deterministic: bool = False,
    ) -> None:
        if not callable(getattr(model, "get_action", None)):
            raise TypeError(f"model must be a MineStudio MinePolicy (with get_action), got {type(model).__name__}")
        if not isinstance(segmenter, Segmenter):
            kind = type(segmenter).__name__
            raise TypeError(f"segmenter must have segment(frame, point) and track(frame), got {kind}")
        self.model = model
        self.segmenter = segmenter
        self.interactions = dict(interactions)
        self.deterministic = deterministic
        self.tokenizer = VPTTokenizer()
        self._obj_id: int | None = None
        self._mask: np.ndarray | None = None
        self._memory: Any = None
        self._tracked = False

    def start(self, verb: str, pixel: tuple[float, float], state: ControlState) -> None:
        """Segment the object at ``pixel`` and pick the verb's interaction type."""
        if verb not in self.interactions:
            known = sorted(self.interactions)
            raise ValueError(f"ROCKET-1 has no interaction type for the verb {verb!r}; known: {known}")
        frame = _frame(state, "Rocket1PointingPolicy")
        h, w = frame.shape[:2]
        point = (pixel[0] * w / state.view.width, pixel[1] * h / state.view.height)
        self._mask = self._checked(self.segmenter.segment(frame, point), frame)
        self._obj_id = self.interactions[verb]
        self._memory = None
        self._tracked = True  # the mask is the start frame's, which the first tick sees

    def act(self, state: ControlState) -> CanonicalAction:
        """One tick of ROCKET-1 on the current frame and the tracked mask."""
        if self._obj_id is None or self._mask is None:
            raise RuntimeError("Rocket1PointingPolicy.act before start")
        frame = _frame(state, "Rocket1PointingPolicy")
        if not self._tracked:
            self._mask = self._checked(self.segmenter.track(frame), frame)
        self._tracked = False
        segment = {"obj_id": self._obj_id, "obj_mask": self._mask}
        action, self._memory = self.model.get_action(
            {"image": frame, "segment": segment}, self._memory, deterministic=self.deterministic, input_shape="*"
        )
        return agent_action(action, self.tokenizer)

    @staticmethod
    def _checked(mask: Any, frame: np.ndarray) -> np.ndarray:
        out = np.asarray(mask, dtype=np.float32)
        if out.shape != frame.shape[:2]:
            raise ValueError(f"the segmenter's mask has shape {out.shape}, the frame {frame.shape[:2]}")
        return out
