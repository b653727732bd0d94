"""A complete custom action space: ``Hotbar: 3`` selects hotbar slot 3 on the next tick.

Everything the library does with its five built-in spaces works with this one, declared in this file
alone (and its grammar, ``hotbar.lark``): parsing with positioned errors, rendering, the canonical MineRL
action (so the action-space-independent reward and ``equivalent`` compare it with any other space),
chains, grammar-constrained decoding, the contract checker, and, once registered with its controller,
``asp.parse``, the ``actionspaces`` command, ``TextActionEnv`` and the evaluation's space shares.
Run ``python examples/custom_space/hotbar.py``; ``docs/custom-space.md`` walks through it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import numpy as np
from lark import Token, Transformer
from pydantic import BaseModel, ConfigDict, Field

import actionspaces as asp
from actionspaces import CanonicalAction, ChainSpace, ParseError, RawSpace, ViewState, equivalent
from actionspaces.controllers import Controller
from actionspaces.decoding import generation_grammar
from actionspaces.registry import SpaceEntry, register_space, unregister_space
from actionspaces.space import ActionSpace, SemanticError, as_generator
from actionspaces.state import ControlState
from actionspaces.testing import check_space


class HotbarAction(BaseModel):
    """Select one hotbar slot (1..9)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    slot: int = Field(ge=1, le=9)


class _HotbarTransformer(Transformer[Token, Any]):
    """Runs inline while parsing; a SemanticError is reported at the token's position."""

    def start(self, children: list[Token | None]) -> HotbarAction:
        number = children[-1]
        assert number is not None
        if not 1 <= int(number) <= 9:
            raise SemanticError.at(number, f"hotbar slot {number} is not 1..9", ("a slot 1..9",))
        return HotbarAction(slot=int(number))


class HotbarSpace(ActionSpace[HotbarAction]):
    """``Hotbar: <slot>``: the slot is held on the next tick, as the env's ``hotbar.<slot>`` button."""

    name: ClassVar[str] = "hotbar"
    prefix: ClassVar[str] = "Hotbar:"
    grammar_path: ClassVar[Path] = Path(__file__).with_name("hotbar.lark")
    action_type: ClassVar[type[BaseModel]] = HotbarAction
    terminal_descriptions: ClassVar[dict[str, str]] = {"NUMBER": "a hotbar slot 1..9", "SLOT_WORD": "'slot'"}

    @classmethod
    def transformer(cls) -> _HotbarTransformer:
        """The transformer of hotbar.lark."""
        return _HotbarTransformer()

    def render_body(self, action: HotbarAction) -> str:
        return str(action.slot)

    def canonicalize(self, action: HotbarAction, state: ViewState | None = None) -> CanonicalAction:
        return CanonicalAction(buttons={f"hotbar.{action.slot}"})

    def sample(self, rng: np.random.Generator | int | None = None) -> HotbarAction:
        return HotbarAction(slot=int(as_generator(rng).integers(1, 10)))

    def generation_rules(self) -> str:
        """The canonical output for constrained decoding: the entry rule is named after the space."""
        return "hotbar: /[1-9]/"


class HotbarController(Controller[HotbarAction]):
    """Executes a hotbar action in an env: one tick holding the slot's button."""

    space = "hotbar"

    def start(self, action: HotbarAction, state: ControlState) -> None:
        self._tick = HotbarSpace().canonicalize(action)

    def step(self, state: ControlState) -> tuple[CanonicalAction, bool]:
        return self._tick, True


#: The space's one declaration: the registry reads its name, prefix, ranks and default controller from here.
HOTBAR_ENTRY = SpaceEntry(HotbarSpace, execution_rank=5, text_order=35, controller=HotbarController)


def main() -> None:
    space = HotbarSpace()
    # parse, with or without the prefix; render back
    action = space.parse("Hotbar: slot 3")
    assert action == HotbarAction(slot=3) and space.render(action) == "Hotbar: 3"
    assert space.parse(space.render(space.sample(7))) == space.sample(7)
    # errors name what was wrong, where
    try:
        space.parse("Hotbar: 12")
    except ParseError as err:
        assert err.position == len("Hotbar: ") and "not 1..9" in str(err)
        print(err)
    # one canonical action: equivalent to the raw action that presses key 3
    raw = RawSpace()
    pressed = raw.parse("Action: move(0, 0) and press(3)")
    assert equivalent(space.canonicalize(action), raw.canonicalize(pressed))
    # chains: a response may use the new space beside the built-in ones
    chain = ChainSpace([HotbarSpace(), RawSpace()])
    parsed = chain.parse("Hotbar: 5\nAction: move(0, 0) and press(5)")
    assert parsed.ok and parsed.spaces == ("hotbar", "raw") and parsed.executable.space == "raw"
    # constrained decoding: its generation grammar joins the chain's
    grammar = generation_grammar(chain, spaces=["hotbar", "raw"], single=True)
    assert 'start: "Action: " raw | "Hotbar: " hotbar' in grammar
    # the contract every space keeps (sample, round trip, fast path, errors, tool calls, generation)
    print("contract:", ", ".join(check_space(space)))
    # registered, the space reaches asp.parse and the command line, prefixed or in its tag
    register_space(HOTBAR_ENTRY)
    try:
        assert asp.parse("Hotbar: 4").executable.space == "hotbar"
        tagged = asp.parse("Slot 4 holds the sword. <hotbar>4</hotbar>")
        assert tagged.ok and tagged.executable.action == HotbarAction(slot=4)
        # an env executes it through its controller, with no controller passed
        from actionspaces.envs import CraftWorld, TextActionEnv

        env = TextActionEnv(CraftWorld("mine_block:oak_log"))
        env.reset(seed=0)
        *_, info = env.step("Hotbar: 2")
        assert info["space"] == "hotbar" and info["ticks"] == 1
    finally:
        unregister_space("hotbar")
    print("HotbarSpace: parse, render, errors, g, chains, the contract, the registry and an env all work")


if __name__ == "__main__":
    main()
