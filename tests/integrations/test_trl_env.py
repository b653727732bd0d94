"""TRL's environment_factory: ToolEnvironment, a TextActionEnv episode whose action spaces are tools (issue 28, item 2)."""

from __future__ import annotations

import warnings

import pytest

from actionspaces.envs import CraftWorld, TextActionEnv
from actionspaces.envs.craftworld import craftworld_controllers
from actionspaces.integrations.trl_env import ToolEnvironment, episode_rows
from actionspaces.token_cost import FORMAT_PENALTY

TASK = "mine_block:oak_log"


def quiet(**kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return ToolEnvironment(**kwargs)


def test_the_default_environment_offers_craftworlds_executable_spaces_as_tools():
    env = quiet()
    assert type(env).tool_spaces == ("raw", "grounding", "motion", "language")  # latent needs a codebook
    assert isinstance(env, ToolEnvironment) and type(quiet()) is type(env)  # one class per set of spaces
    first = env.reset(task=TASK, seed=0, prompt=[{"role": "user", "content": "x"}])  # TRL passes every column
    assert first.startswith(f"task: {TASK}")
    assert env.motion(forward_back="forward").startswith(f"task: {TASK}")
    assert env.calls == 1 and not env.ended and env.get_reward() == 0.0


def test_a_tool_call_executes_as_the_text_it_renders_to():
    """Same seed, same call: the tool's env and a text env reach the same state, observation for observation."""
    calls = [("motion", {"forward_back": "forward", "attack": True}), ("raw", {"dx": 30, "keys": ["w"]}),
             ("grounding", {"commands": [{"verb": "approach", "label": "oak log", "points": [{"x": 500, "y": 500}]}]}),
             ("language", {"text": "chop the oak tree"})]  # fmt: skip
    env = quiet()
    text_env = TextActionEnv(CraftWorld(TASK), controllers=craftworld_controllers(seed=0))
    assert env.reset(task=TASK, seed=0) == text_env.reset(seed=0)[0]["text"]
    for name, arguments in calls:
        space = text_env.chain.spaces[name]
        expected = text_env.step(space.render(space.from_tool_call(arguments)))[0]["text"]
        assert getattr(env, name)(**arguments) == expected
    assert env.ended and env.success == 1.0  # the skill got the log


def test_a_refused_call_costs_a_call_and_the_format_penalty_and_names_the_argument():
    env = quiet()
    env.reset(task=TASK, seed=0)
    with pytest.raises(ValueError, match="tool argument 'dx'"):
        env.raw(dx=5000)
    with pytest.raises(ValueError, match="forward_back"):
        env.motion(forward_back="sideways")
    assert env.calls == 2 and env.get_reward() == pytest.approx(-2 * FORMAT_PENALTY)


def test_the_reward_is_success_minus_the_token_and_format_penalties():
    words = quiet(tokenizer=lambda text: len(text.split()), token_penalty=0.01)
    words.reset(task=TASK, seed=0)
    words.language(text="chop the oak tree")  # {"text": "chop the oak tree"}: 5 words
    assert words.calls == 1
    assert words.get_reward() == pytest.approx(words.success - 0.05) and words.success == 1.0
    with pytest.warns(UserWarning, match="no tokenizer"):
        ToolEnvironment()


def test_the_episode_ends_and_later_calls_are_refused():
    env = quiet(max_calls=2)
    env.reset(task=TASK, seed=1)
    env.motion(jump=True)
    env.motion(jump=True)
    assert env.ended
    with pytest.raises(RuntimeError, match="episode is over"):
        env.motion(jump=True)
    fresh = quiet()
    with pytest.raises(RuntimeError, match="reset"):
        fresh.motion(jump=True)
    env.reset(task=TASK, seed=1)  # a new episode in the same instance (TRL pools them)
    assert env.calls == 0 and not env.ended


def test_bad_rows_and_bad_configurations_are_named():
    env = quiet()
    with pytest.raises(TypeError, match="task: str and seed: int"):
        env.reset(task=TASK, seed="0")
    with pytest.raises(TypeError):
        env.reset(seed=0)  # a row without a task column
    with pytest.raises(KeyError, match="unknown action space 'hotbar'"):
        quiet(spaces=["hotbar"])
    with pytest.raises(ValueError, match="at least one"):
        quiet(spaces=[])
    for bad in (-1, float("nan"), float("inf")):
        with pytest.raises(ValueError, match="penalties"):
            quiet(format_penalty=bad)
    only_raw = quiet(make_env=lambda task, seed: TextActionEnv(CraftWorld(task), chain=None, controllers={}),
                     spaces=["latent"])  # fmt: skip
    with pytest.raises(ValueError, match=r"not the tool spaces \['latent'\]"):
        only_raw.reset(task=TASK, seed=0)


def test_the_tools_are_what_transformers_reads_from_the_methods():
    """TRL turns each public method into a schema with transformers.utils.get_json_schema."""
    transformers = pytest.importorskip("transformers")
    env = quiet(spaces=["raw", "grounding", "latent"])
    raw = transformers.utils.get_json_schema(env.raw)["function"]
    assert raw["name"] == "raw" and set(raw["parameters"]["properties"]) == {"dx", "dy", "keys", "click"}
    assert raw["parameters"]["properties"]["keys"]["items"]["enum"][:4] == ["escape", "s", "q", "w"]
    assert "at most 1200" in raw["parameters"]["properties"]["dx"]["description"]
    grounding = transformers.utils.get_json_schema(env.grounding)["function"]
    assert grounding["parameters"]["required"] == ["commands"]
    assert '"mine"' in grounding["parameters"]["properties"]["commands"]["description"]
    assert transformers.utils.get_json_schema(env.latent)["function"]["parameters"]["properties"]["codes"] == {
        "type": "array", "items": {"type": "integer"}, "description": "Codes"}  # fmt: skip


def test_episode_rows_name_each_episode():
    rows = episode_rows(["a:b", "c:d"], [0, 1], instruction="go")
    assert [(r["task"], r["seed"]) for r in rows] == [("a:b", 0), ("a:b", 1), ("c:d", 0), ("c:d", 1)]
    assert rows[0]["prompt"] == [{"role": "user", "content": "go"}]
    opened = episode_rows(["a:b"], [0], instruction="go", system="")[0]["prompt"]
    assert opened == [{"role": "system", "content": ""}, {"role": "user", "content": "go"}]


# ------------------------------------------------------------------------------------------------ TRL itself
CALL = '<tool_call>\n{"name": "language", "arguments": {"text": "chop the oak tree"}}\n</tool_call>'
SPECIALS = ("<|im_start|>", "<|im_end|>", "<tool_call>", "</tool_call>", "<tool_response>", "</tool_response>",
            "<think>", "</think>")  # fmt: skip


def first_line(obs):
    return obs["text"].splitlines()[0]


@pytest.mark.slow  # about 30 s: a tiny model taught one call, then two GRPO steps; make test-trl-range runs it too
def test_grpo_trainer_plays_tool_episodes_and_masks_the_env_out_of_the_loss(tmp_path):
    """GRPOTrainer(environment_factory=ToolEnvironment...) for two steps on a tiny model taught one tool call."""
    torch = pytest.importorskip("torch")
    trl = pytest.importorskip("trl")
    from datasets import Dataset
    from trl.chat_template_utils import qwen3_chat_template

    from tiny_lm import CORPUS, tiny_model, tiny_tokenizer

    made = []

    def factory():
        env = ToolEnvironment(spaces=["language"], tokenizer=lambda text: len(text.split()), token_penalty=0.01,
                              observation=first_line)  # fmt: skip
        made.append(env)
        return env

    rows = episode_rows([TASK], [0, 1], instruction="play")
    tokenizer = tiny_tokenizer(extra_specials=SPECIALS, corpus=[*CORPUS, CALL, f"task: {TASK}"] * 4)
    tokenizer.eos_token = "<|im_end|>"
    tokenizer.chat_template = qwen3_chat_template
    tools = [factory().language]
    prompt_text = tokenizer.apply_chat_template(
        [{"role": "user", "content": "play" + f"task: {TASK}"}], tools=tools, tokenize=False, add_generation_prompt=True
    )
    tokenizer = tiny_tokenizer(extra_specials=SPECIALS, corpus=[*CORPUS, CALL, prompt_text] * 4)
    tokenizer.eos_token = "<|im_end|>"
    tokenizer.chat_template = qwen3_chat_template

    # teach the tiny model the one call, so that the rollouts call the tool
    model = tiny_model(tokenizer, max_positions=4096)
    prompt = tokenizer(prompt_text, add_special_tokens=False)["input_ids"]
    answer = tokenizer(CALL + "<|im_end|>", add_special_tokens=False)["input_ids"]
    ids = torch.tensor([prompt + answer])
    labels = ids.clone()
    labels[0, : len(prompt)] = -100
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-2)
    for _ in range(80):
        optimizer.zero_grad()
        model(input_ids=ids, labels=labels).loss.backward()
        optimizer.step()
    checkpoint = tmp_path / "tiny"
    model.save_pretrained(checkpoint)
    tokenizer.save_pretrained(checkpoint)

    args = trl.GRPOConfig(
        output_dir=str(tmp_path / "out"), use_cpu=True, max_steps=2, per_device_train_batch_size=2,
        num_generations=2, max_completion_length=200, max_tool_calling_iterations=2, learning_rate=1e-3,
        beta=0.0, logging_steps=1, report_to=[], save_strategy="no", seed=0, temperature=0.5,
    )  # fmt: skip
    trainer = trl.GRPOTrainer(
        model=str(checkpoint), args=args, train_dataset=Dataset.from_list(rows), processing_class=tokenizer,
        environment_factory=factory,
    )  # fmt: skip
    seen = []
    original = trainer._compute_loss

    def compute_loss(model, inputs):
        seen.append(inputs)
        return original(model, inputs)

    trainer._compute_loss = compute_loss
    trainer.train()

    assert sum(env.calls for env in made) >= 2  # the rollouts called the tool, and the env executed it
    masked = 0
    for inputs in seen:
        tool_mask, completion_mask = inputs["tool_mask"], inputs["completion_mask"]
        for row in range(tool_mask.shape[0]):
            ids = inputs["completion_ids"][row]
            env_part = tokenizer.decode(ids[(tool_mask[row] == 0) & (completion_mask[row] == 1)])
            model_part = tokenizer.decode(ids[(tool_mask[row] == 1) & (completion_mask[row] == 1)])
            if env_part:
                masked += 1
                assert f"task: {TASK}" in env_part and "<tool_response>" in env_part  # the env's observation
                assert "<tool_response>" not in model_part and "language" in model_part  # the model's call
    assert masked >= 1  # some rollout's env tokens were left out of the loss
    logs = [entry for entry in trainer.state.log_history if "reward" in entry]
    column = f"rewards/{type(made[0]).__name__}/mean"
    assert logs and all(column in entry for entry in logs)
    assert all(entry[column] == pytest.approx(0.95) for entry in logs)  # the skill gets the log: 1 - 0.01 * 5 words
    assert [env.get_reward() for env in made if env.calls] == pytest.approx([0.95, 0.95])
