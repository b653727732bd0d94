"""Every registered space keeps the contract (actionspaces.testing.check_space), one test per (space, property).

And the checker itself: a space that breaks one property is named with that property and an example.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import pytest

from actionspaces import LanguageSpace, LatentSpace, RawSpace
from actionspaces.registry import registered_spaces
from actionspaces.space import ActionSpace
from actionspaces.spaces import LanguageAction, RawAction
from actionspaces.testing import PROPERTIES, SpaceContractError, check_space

pytest.importorskip("llguidance")  # the generation property needs it (the dev install has it)


def instance(name: str) -> ActionSpace[Any]:
    entry = next(e for e in registered_spaces() if e.name == name)
    return LatentSpace(codebook_size=64) if name == "latent" else entry.create()


@pytest.mark.parametrize("prop", PROPERTIES)
@pytest.mark.parametrize("name", [e.name for e in registered_spaces()])
def test_every_registered_space_keeps_the_contract(name: str, prop: str) -> None:
    assert check_space(instance(name), properties=[prop], samples=150) == (prop,)


class WrongFastPath(RawSpace):
    def fast_parse(self, body: str) -> RawAction | None:
        action = super().fast_parse(body)
        return None if action is None else action.model_copy(update={"dx": action.dx + 1})


class SampleOutside(LatentSpace):
    def sample(self, rng: np.random.Generator | int | None = None) -> Any:
        return super().sample(rng).model_copy(update={"codes": (self.codebook_size,)})


class LossyRender(LanguageSpace):
    def render_body(self, action: LanguageAction) -> str:
        return action.text.upper()


class CrashingParse(LanguageSpace):
    def fast_parse(self, body: str) -> LanguageAction | None:
        if "," in body:
            raise KeyError("a comma")
        return super().fast_parse(body)


class LooseGrammar(LanguageSpace):
    def generation_rules(self) -> str:
        return 'language: "mine " | "<|im_end|>"'  # the parser refuses an empty skill and a chat token


class ToolDrops(LanguageSpace):
    tool_arguments_type: ClassVar[Any] = None

    def tool_arguments(self, action: LanguageAction) -> dict[str, Any]:
        return {"text": action.text[:1]}


@pytest.mark.parametrize(
    ("space", "prop"),
    [
        (SampleOutside(codebook_size=8), "sample"),
        (LossyRender(), "round_trip"),
        (WrongFastPath(), "fast_path"),
        (CrashingParse(), "errors"),
        (ToolDrops(), "tool"),
        (LooseGrammar(), "generation"),
    ],
    ids=lambda v: v if isinstance(v, str) else type(v).__name__,
)
def test_a_broken_property_is_named_with_an_example(space: ActionSpace[Any], prop: str) -> None:
    with pytest.raises(SpaceContractError) as caught:
        check_space(space, properties=[prop])
    assert caught.value.property == prop and caught.value.example is not None
    assert repr(prop) in str(caught.value) and "example" in str(caught.value)


def test_bad_arguments_are_named() -> None:
    with pytest.raises(TypeError, match="ActionSpace instance"):
        check_space(RawSpace)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="unknown properties"):
        check_space(RawSpace(), properties=["speed"])
    with pytest.raises(ValueError, match="samples"):
        check_space(RawSpace(), samples=0)


def test_a_space_without_generation_rules_skips_that_property() -> None:
    class NoRules(LanguageSpace):
        def generation_rules(self) -> None:
            return None

    assert "generation" not in check_space(NoRules(), samples=5)
