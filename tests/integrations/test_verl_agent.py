"""verl's agent loop over a TextActionEnv (issue 28, item 4).

Where verl is installed (``make test-verl`` builds a venv with it), the loop is tested against verl's own
``AgentLoopBase``/``AgentLoopOutput``; elsewhere against ``FakeVerl``, a copy of their contract as read
from verl 0.9.1's source (``verl/experimental/agent_loop/agent_loop.py``): the constructor's arguments,
``rollout_config`` read from ``trainer_config.config.actor_rollout_ref.rollout``, the output's fields,
``register(name)``.
"""

from __future__ import annotations

import asyncio
import importlib
import importlib.util
import sys
import types
from typing import Any

import pytest
import yaml
from pydantic import BaseModel

pytest.importorskip("transformers")

from tiny_lm import CORPUS, tiny_tokenizer

REAL_VERL = importlib.util.find_spec("verl") is not None
TEMPLATE = (
    "{% for m in messages %}<|im_start|>{{ m.role }}\n{{ m.content }}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)
TASK = "mine_block:oak_log"


def fake_verl() -> dict[str, types.ModuleType]:
    """verl.experimental.agent_loop.agent_loop's contract (verl 0.9.1), nothing more."""
    module = types.ModuleType("verl.experimental.agent_loop.agent_loop")

    class AgentLoopMetrics(BaseModel):
        generate_sequences: float = 0.0
        tool_calls: float = 0.0
        compute_score: float = 0.0
        num_preempted: int = -1

    class AgentLoopOutput(BaseModel):
        prompt_ids: list[int]
        response_ids: list[int]
        response_mask: list[int]
        response_logprobs: list[float] | None = None
        routed_experts: Any = None
        multi_modal_data: dict[str, Any] | None = None
        reward_score: float | None = None
        num_turns: int = 0
        metrics: AgentLoopMetrics
        extra_fields: dict[str, Any] = {}

    class AgentLoopBase:
        def __init__(self, trainer_config, server_manager, tokenizer, processor, dataset_cls, data_config,
                     hf_model_type=None, **kwargs):  # fmt: skip
            self.config = trainer_config.config
            self.rollout_config = self.config.actor_rollout_ref.rollout
            self.server_manager = server_manager
            self.tokenizer = tokenizer
            self.processor = processor

    registry: dict[str, dict] = {}

    def register(agent_name):
        def decorator(subclass):
            registry[agent_name] = {"_target_": f"{subclass.__module__}.{subclass.__qualname__}"}
            return subclass

        return decorator

    module.__dict__.update(AgentLoopMetrics=AgentLoopMetrics, AgentLoopOutput=AgentLoopOutput,
                           AgentLoopBase=AgentLoopBase, register=register, _agent_loop_registry=registry)  # fmt: skip
    names = ["verl", "verl.experimental", "verl.experimental.agent_loop"]
    return {**{name: types.ModuleType(name) for name in names}, module.__name__: module}


@pytest.fixture
def verl_agent(monkeypatch):
    if not REAL_VERL:
        for name, module in fake_verl().items():
            monkeypatch.setitem(sys.modules, name, module)
    monkeypatch.delitem(sys.modules, "actionspaces.integrations.verl_agent", raising=False)
    yield importlib.import_module("actionspaces.integrations.verl_agent")
    sys.modules.pop("actionspaces.integrations.verl_agent", None)  # the next test imports it against its verl


def chat_tokenizer():
    tokenizer = tiny_tokenizer(extra_specials=("<|im_start|>", "<|im_end|>"), corpus=[*CORPUS, f"task: {TASK}"] * 2)
    tokenizer.eos_token = "<|im_end|>"
    tokenizer.chat_template = TEMPLATE
    return tokenizer


class ScriptedServer:
    """verl's server_manager.generate: ids in, the next scripted answer's ids (and log-probs) out."""

    def __init__(self, tokenizer, answers):
        self.tokenizer, self.answers, self.requests = tokenizer, list(answers), []

    async def generate(self, request_id, *, prompt_ids, sampling_params, **kwargs):
        self.requests.append((request_id, list(prompt_ids), dict(sampling_params)))
        ids = self.tokenizer(self.answers.pop(0), add_special_tokens=False)["input_ids"] + [self.tokenizer.eos_token_id]
        return types.SimpleNamespace(token_ids=ids, log_probs=[-0.25] * len(ids))


def make_loop(module, tokenizer, server, response_length=2048, **kwargs):
    rollout = {"prompt_length": 1024, "response_length": response_length}
    if REAL_VERL:
        from omegaconf import OmegaConf
        from verl.experimental.agent_loop.agent_loop import DictConfigWrap as wrap  # noqa: N813

        config = OmegaConf.create({"actor_rollout_ref": {"rollout": rollout}, "data": {}})
    else:
        wrap = types.SimpleNamespace
        config = wrap(actor_rollout_ref=wrap(rollout=wrap(**rollout)), data={})
    return module.TextEnvAgentLoop(
        trainer_config=wrap(config=config), server_manager=server, tokenizer=tokenizer, processor=None,
        dataset_cls=None, data_config=wrap(config=config.data), env_kwargs={"max_calls": 8}, **kwargs,
    )  # fmt: skip


def test_an_episode_keeps_the_models_ids_masks_the_env_and_scores_the_return(verl_agent):
    tokenizer = chat_tokenizer()
    answers = ["Motion: turn right", "Action: move(0, 0) and press(", "Skill: chop the oak tree"]
    server = ScriptedServer(tokenizer, answers)
    loop = make_loop(verl_agent, tokenizer, server, token_penalty=0.01)
    row = verl_agent.verl_rows([TASK], [0])[0]
    out = asyncio.run(loop.run({"temperature": 1.0, "logprobs": True}, **row))

    assert out.extra_fields["success"] == 1.0 and out.extra_fields["calls"] == 3  # the skill got the log
    assert len(out.response_ids) == len(out.response_mask) == len(out.response_logprobs)
    model = [t for t, m in zip(out.response_ids, out.response_mask, strict=True) if m == 1]
    env = tokenizer.decode([t for t, m in zip(out.response_ids, out.response_mask, strict=True) if m == 0])
    assert out.extra_fields["policy_tokens"] == len(model)
    assert env.count(f"task: {TASK}") == 2  # the observations after the first two calls, written by the env
    assert all(p == -0.25 for p, m in zip(out.response_logprobs, out.response_mask, strict=True) if m == 1)
    # one unparsed call (the format penalty) and λ per policy token
    assert out.reward_score == pytest.approx(1.0 - 0.01 * len(model) - 0.1)
    # never re-tokenized: each request continues the previous one's ids with the ids the server returned
    for (rid, before, _), (rid2, after, _), sent in zip(server.requests, server.requests[1:], answers, strict=False):
        returned = tokenizer(sent, add_special_tokens=False)["input_ids"] + [tokenizer.eos_token_id]
        assert rid == rid2 and after[: len(before) + len(returned)] == before + returned
    assert out.prompt_ids == server.requests[0][1] and f"task: {TASK}" in tokenizer.decode(out.prompt_ids)


def test_the_response_budget_ends_the_episode(verl_agent):
    tokenizer = chat_tokenizer()
    server = ScriptedServer(tokenizer, ["Motion: turn right"] * 8)
    loop = make_loop(verl_agent, tokenizer, server, response_length=40)
    out = asyncio.run(loop.run({}, **verl_agent.verl_rows([TASK], [1])[0]))
    assert len(out.response_ids) <= 40 and out.extra_fields["success"] == 0.0
    assert all(request[2]["max_tokens"] <= 40 for request in server.requests)


def test_a_grammar_reaches_the_sampling_parameters(verl_agent):
    tokenizer = chat_tokenizer()
    server = ScriptedServer(tokenizer, ["Motion: turn right"])
    loop = make_loop(verl_agent, tokenizer, server, grammar="chain", spaces=["motion", "raw"], engine="sglang",
                     max_calls=1)  # fmt: skip
    asyncio.run(loop.run({"temperature": 0.7}, **verl_agent.verl_rows([TASK], [0])[0]))
    params = server.requests[0][2]
    assert params["temperature"] == 0.7 and params["ebnf"].startswith("%llguidance {}\nstart: ")
    assert '"Motion: " motion' in params["ebnf"] and "Grounding" not in params["ebnf"]
    with pytest.raises(ValueError, match="unknown engine"):
        verl_agent.sampling_constraint("start: x", "tgi")
    if importlib.util.find_spec("vllm") is None:
        with pytest.raises(ImportError, match="needs vLLM"):
            verl_agent.sampling_constraint("start: x", "vllm")


def test_bad_rows_and_arguments_are_named(verl_agent):
    tokenizer = chat_tokenizer()
    loop = make_loop(verl_agent, tokenizer, ScriptedServer(tokenizer, []))
    with pytest.raises(ValueError, match="extra_info"):
        asyncio.run(loop.run({}, extra_info={"seed": 0}))
    with pytest.raises(ValueError, match="extra_info"):
        asyncio.run(loop.run({}, extra_info={"task": TASK, "seed": "0"}))
    with pytest.raises(ValueError, match="max_calls"):
        make_loop(verl_agent, tokenizer, ScriptedServer(tokenizer, []), max_calls=0)
    with pytest.raises(ValueError, match="penalties"):
        make_loop(verl_agent, tokenizer, ScriptedServer(tokenizer, []), token_penalty=float("nan"))


def test_the_system_message_opens_every_episodes_chat(verl_agent):
    tokenizer = chat_tokenizer()
    server = ScriptedServer(tokenizer, ["Motion: turn right"])
    loop = make_loop(verl_agent, tokenizer, server, max_calls=1, system="")
    out = asyncio.run(loop.run({}, **verl_agent.verl_rows([TASK], [0])[0]))
    assert tokenizer.decode(out.prompt_ids).startswith("<|im_start|>system\n<|im_end|>\n<|im_start|>user\n")
    with pytest.raises(TypeError, match="a system message"):
        make_loop(verl_agent, tokenizer, server, system=["not", "text"])


def test_the_yaml_registers_the_loop_under_its_name(verl_agent):
    entries = yaml.safe_load(verl_agent.agent_loop_config_path().read_text())
    assert [entry["name"] for entry in entries] == [verl_agent.AGENT_NAME]
    assert entries[0]["system"] is None  # the template's default unless a checkpoint's own is given
    module_name, _, class_name = entries[0]["_target_"].rpartition(".")
    assert getattr(importlib.import_module(module_name), class_name) is verl_agent.TextEnvAgentLoop
    registry = sys.modules["verl.experimental.agent_loop.agent_loop"]._agent_loop_registry
    assert registry[verl_agent.AGENT_NAME]["_target_"] == entries[0]["_target_"]
