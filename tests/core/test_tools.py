"""Action spaces as tools: a JSON schema per space, arguments in, the same typed action out (issue 28, item 1)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest

from actionspaces import LatentSpace, ParseError, RawSpace
from actionspaces.registry import default_spaces

SPACES = {space.name: space for space in default_spaces()}
HOTBAR = Path(__file__).resolve().parents[2] / "examples" / "custom_space" / "hotbar.py"


@pytest.mark.parametrize("name", sorted(SPACES))
def test_a_space_describes_itself_as_a_function_tool(name: str) -> None:
    tool = SPACES[name].tool_schema()
    assert tool["type"] == "function" and tool["function"]["name"] == name
    parameters = tool["function"]["parameters"]
    assert parameters["type"] == "object" and parameters["properties"]
    assert "Examples" not in json.dumps(parameters)  # docstrings reach a model as their first paragraph only
    assert json.loads(json.dumps(tool)) == tool


@pytest.mark.parametrize("name", sorted(SPACES))
def test_a_tool_call_gives_the_action_its_text_gives(name: str) -> None:
    space = SPACES[name]
    rng = np.random.default_rng(0)
    for _ in range(200):
        action = space.sample(rng)
        arguments = json.loads(json.dumps(space.tool_arguments(action)))  # what crosses the wire
        assert space.from_tool_call(arguments) == action == space.parse(space.render(action))
        assert space.from_tool_call(json.dumps(arguments)) == action


def test_raw_takes_key_and_button_names_as_the_text_writes_them() -> None:
    raw = RawSpace()
    assert set(raw.tool_schema()["function"]["parameters"]["properties"]) == {"dx", "dy", "keys", "click"}
    action = raw.from_tool_call({"dx": 19, "keys": ["w", "left.control"], "click": ["left"]})
    assert raw.render(action) == "Action: move(19, 0) and press(w, left.control) and click(left)"
    assert raw.tool_arguments(action) == {"dx": 19.0, "dy": 0.0, "keys": ["w", "left.control"], "click": ["left"]}


@pytest.mark.parametrize(
    ("space", "arguments", "message"),
    [
        (RawSpace(), {"dx": 5000}, "raw: tool argument 'dx': Input should be less than or equal to 1200"),
        (RawSpace(), {"dx": 1, "speed": 2}, "raw: tool argument 'speed': Extra inputs are not permitted"),
        (RawSpace(), {"keys": ["jump"]}, "unknown key 'jump' (did you mean 'space'?)"),
        (RawSpace(), '{"dx": ', "raw: tool arguments are not JSON"),
        (RawSpace(), "[1, 2]", "raw: tool arguments must be a JSON object, got list"),
        (SPACES["language"], {}, "language: tool argument 'text': Field required"),
        (SPACES["grounding"], {"commands": [{"verb": "fly"}]}, "grounding: tool argument 'commands.0.verb'"),
        (LatentSpace(codebook_size=8), {"codes": [3, 9]}, "code 9 is outside the codebook of size 8"),
    ],
)
def test_a_wrong_argument_is_named(space, arguments, message: str) -> None:
    with pytest.raises(ParseError) as caught:
        space.from_tool_call(arguments)
    assert message in str(caught.value)


def test_a_custom_space_is_a_tool_through_the_same_hooks() -> None:
    spec = importlib.util.spec_from_file_location("hotbar_tools", HOTBAR)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    space = module.HotbarSpace()
    assert space.tool_schema()["function"]["name"] == space.name
    action = space.sample(np.random.default_rng(1))
    assert space.from_tool_call(space.tool_arguments(action)) == action
