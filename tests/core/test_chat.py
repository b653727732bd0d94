"""How every prompting path opens a chat, and the system message a checkpoint records."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from actionspaces.chat import SYSTEM_PROMPT_ATTRIBUTE, checked_system_prompt, opening_messages, recorded_system_prompt


def test_the_opening_has_a_system_turn_only_when_one_is_given():
    assert opening_messages("obs") == [{"role": "user", "content": "obs"}]
    assert opening_messages("obs", "") == [{"role": "system", "content": ""}, {"role": "user", "content": "obs"}]
    assert opening_messages("obs", "Play.")[0] == {"role": "system", "content": "Play."}
    parts = [{"type": "image"}, {"type": "text", "text": "obs"}]
    assert opening_messages(parts, "")[1]["content"] is parts  # a vision prompt's parts pass through


@pytest.mark.parametrize("bad", [3, b"bytes", ["a"], 0.5])
def test_a_system_message_that_is_not_text_is_named(bad):
    with pytest.raises(TypeError, match="a system message is a string or None, got"):
        checked_system_prompt(bad)
    with pytest.raises(TypeError, match="a system message"):
        opening_messages("obs", bad)


def test_the_recorded_system_message_is_read_from_a_model_a_policy_or_a_config():
    config = SimpleNamespace(**{SYSTEM_PROMPT_ATTRIBUTE: ""})
    model = SimpleNamespace(config=config)
    policy = SimpleNamespace(model=model)
    assert recorded_system_prompt(config) == recorded_system_prompt(model) == recorded_system_prompt(policy) == ""
    assert recorded_system_prompt(SimpleNamespace(config=SimpleNamespace())) is None  # never set: the default
    damaged = SimpleNamespace(config=SimpleNamespace(**{SYSTEM_PROMPT_ATTRIBUTE: 7}))
    with pytest.raises(TypeError, match=f"config's {SYSTEM_PROMPT_ATTRIBUTE} is damaged"):
        recorded_system_prompt(damaged)
