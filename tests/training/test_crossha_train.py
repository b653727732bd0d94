"""The reference trainer (examples/crossha_train.py): the CI preset end to end, kill and resume, bad input."""

from __future__ import annotations

import dataclasses
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytest.importorskip("transformers")
pytest.importorskip("matplotlib")

from actionspaces.envs.craftworld import CATEGORIES
from actionspaces.envs.craftworld.datasets import pov
from actionspaces.reporting import CROSSHA_MODELS, findings, write_sweep_report
from actionspaces.training.policy import response_logprobs
from actionspaces.training.pretrained import load_pretrained
from actionspaces.training.recipe import evaluations, preset_config, tiny_policy

SCRIPT = Path(__file__).resolve().parents[2] / "examples" / "crossha_train.py"
SKILL_TARGETS = SCRIPT.parents[1] / "scripts" / "skill_targets.py"
EVALUATE_RUN = SCRIPT.parents[1] / "scripts" / "evaluate_run.py"
ENV = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONUNBUFFERED": "1"}


def _run(*args: str, runs: Path, timeout: float = 600) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(SCRIPT), "--runs-dir", str(runs), *args],
        capture_output=True, text=True, env=ENV, timeout=timeout, check=False,
    )  # fmt: skip


def _said(result: subprocess.CompletedProcess) -> str:
    """What a run printed, with typer's error box and its line wrapping undone."""
    return " ".join(re.sub(r"[│╭╮╰╯─]", " ", result.stderr + result.stdout).split())


def _metrics(root: Path) -> list[dict]:
    return [json.loads(line) for line in (root / "metrics.jsonl").read_text().splitlines() if line.strip()]


def _codebook():
    from actionspaces.controllers import LatentCodebook
    from actionspaces.envs.craftworld import record_expert

    actions = [s.action for s in record_expert("mine_block:dirt", 0)]
    return LatentCodebook.fit([actions[i : i + 4] for i in range(0, len(actions) - 3)], size=4)


def _frames(stride: int = 4) -> list:
    """Three different views: the expert turning towards a tree."""
    from actionspaces.envs.craftworld import record_expert

    steps = record_expert("mine_block:oak_log", 0)
    return [pov(steps[t].env, stride) for t in (0, 5, 10)]


@pytest.mark.timeout(900)
def test_ci_preset_survives_a_kill_and_resumes_to_the_end(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    cmd = [sys.executable, str(SCRIPT), "--preset", "ci", "--runs-dir", str(runs)]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=ENV)
    root = runs / "ci"
    deadline = time.time() + 300
    strl = root / "checkpoints" / "strl"
    while time.time() < deadline and proc.poll() is None:  # kill -9 once the STRL GRPO stage has a checkpoint
        if (strl / "progress.json").exists():
            break
        time.sleep(0.2)
    assert proc.poll() is None, "the run ended before it could be killed"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert not (root / "results.json").exists()

    again = _run("--preset", "ci", runs=runs)
    assert again.returncode != 0 and "--resume" in again.stderr  # an existing run is never overwritten silently

    # what a kill or a full disk leaves: a partial last metrics line, a truncated newest checkpoint, a
    # truncated cached dataset; each is named, and the run resumes from the last good state
    with (root / "metrics.jsonl").open("a") as f:
        f.write('{"stage": "strl", "iterat')
    newest = next(p for p in (strl, strl.with_name("strl.prev")) if p.exists())  # the kill may fall mid-swap
    state = newest / "trainer_state.pt"
    state.write_bytes(state.read_bytes()[:100])
    cached = root / "data" / "rejection_sampled.json"
    cached.write_text(cached.read_text()[:10])
    done = _run("--preset", "ci", "--resume", runs=runs)
    assert done.returncode == 0, done.stderr[-3000:]
    said = _said(done)
    assert "partial last line" in said and "metrics.jsonl" in said
    assert f"checkpoint {newest} is unusable" in said and "rejection_sampled.json is truncated" in said
    cfg = json.loads((root / "config.json").read_text())
    metrics = _metrics(root)
    seen = [(m["stage"], m["iteration"]) for m in metrics]
    assert len(seen) == len(set(seen)), "an iteration was logged twice"
    per_stage = {s: sorted(i for st, i in seen if st == s) for s in {st for st, _ in seen}}
    sft_iters = -(-cfg["sft_steps"] // cfg["sft_steps_per_iter"])
    assert per_stage["mix"] == list(range(sft_iters))
    assert per_stage["strl"] == list(range(cfg["strl_iters"]))
    for stage in ("crossha", "raw_mtrl", "grounding_mtrl", "motion_mtrl", "nostrl_mtrl"):
        assert per_stage[stage] == list(range(cfg["mtrl_iters"]))
        assert all(0.0 <= m["success"] <= 1.0 for m in metrics if m["stage"] == stage)
    assert per_stage["knowledge"] == list(range(-(-cfg["base_steps"] // cfg["sft_steps_per_iter"])))
    for name in ("base", "knowledge", "mix", "cs1", "strl", "cs2", "crossha", "raw_sft", "raw_mtrl", "nostrl_mtrl"):
        ckpt = root / "checkpoints" / name
        assert json.loads((ckpt / "progress.json").read_text())["done"], name
        for file in ("config.json", "tokenizer.json", "trainer_state.pt", "codebook.json"):
            assert (ckpt / file).is_file(), (name, file)
    results = json.loads((root / "results.json").read_text())
    assert set(results["models"]) == {
        "mix", "cs1", "strl", "cs2", "crossha", "raw_sft", "raw_mtrl", "grounding_sft", "grounding_mtrl",
        "motion_sft", "motion_mtrl", "nostrl_mtrl",
    }  # fmt: skip
    crossha = results["models"]["crossha"]
    assert crossha["ID/all"]["episodes"] == 30 and crossha["OOD/all"]["episodes"] == 45
    assert abs(sum(crossha["ID/mine_block"]["shares"].values()) - 1.0) < 1e-9
    assert len(results["findings"]) == 4
    assert all(re.search(r": (supported|not supported|inconclusive) \(", line) for line in results["findings"])
    assert len(crossha["episodes"]) == 75 and {"task", "seed", "success", "tokens", "spaces"} <= set(
        crossha["episodes"][0]
    )
    openha = json.loads((root / "results_openha.json").read_text())
    assert set(openha) == set(results["models"]) and len(openha["crossha"]) == 75
    assert {"task_suc_nums", "task_total_nums", "task_suc_rate"} == set(openha["crossha"]["mine_block:oak_log"])
    report = (root / "results.md").read_text()
    assert "| Stage 3: MTRL = CrossHA (M_mtrl) |" in report and "## OOD tasks" in report
    for png in ("curves.png", "spaces.png"):
        assert (root / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    # a finished run resumes to the same results without training again
    before = (root / "metrics.jsonl").read_text()
    rerun = _run("--preset", "ci", "--resume", runs=runs)
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    assert (root / "metrics.jsonl").read_text() == before
    assert json.loads((root / "results.json").read_text()) == results

    # scripts/skill_targets.py reads the finished run: every Skill: call of the held-out episodes is counted
    counted = subprocess.run([sys.executable, str(SKILL_TARGETS), str(root), "crossha", "--calls", "1"],
                             capture_output=True, text=True, env=ENV, timeout=300, check=False)  # fmt: skip
    assert counted.returncode == 0, counted.stderr[-3000:]
    report = json.loads(counted.stdout.splitlines()[-1])
    assert report["episodes"] == 30 and sum(report["calls"].values()) == 30  # 15 mine + 15 kill tasks, one call
    assert set(report["calls"]) <= {"its own target", "a training target", "another name", "no name", "not a skill"}

    # scripts/latent_codes.py probes the codes after a teacher-forced "Latent:": probabilities, not verdicts
    probed = subprocess.run([sys.executable, str(SCRIPT.parents[1] / "scripts" / "latent_codes.py"), str(root),
                             "mix", "crossha", "--contexts", "3"], capture_output=True, text=True, env=ENV,
                            timeout=300, check=False)  # fmt: skip
    assert probed.returncode == 0, probed.stderr[-3000:]
    lines = [json.loads(line) for line in probed.stdout.splitlines()[-2:]]
    assert [line["model"] for line in lines] == ["mix", "crossha"]
    for line in lines:
        assert line["calls"] == 3 and line["chance"] == round(1 / cfg["codebook_size"], 3)
        assert 0 <= line["labelled_code"] <= line["code_mass"] <= 1
        assert 0 <= line["top_is_the_label"] <= line["top_is_a_code"] <= 3

    # scripts/evaluate_run.py evaluates the checkpoints again: under the run's own controllers it reproduces
    # the run's evaluation episode for episode; under the agent's, it keeps its rows apart from the run's
    for controllers in ("oracle", "agent"):
        redone = subprocess.run([sys.executable, str(EVALUATE_RUN), str(root), "--controllers", controllers,
                                 "--model", "crossha"], capture_output=True, text=True, env=ENV, timeout=300,
                                check=False)  # fmt: skip
        assert redone.returncode == 0, redone.stderr[-3000:]
        line = json.loads(redone.stdout.splitlines()[-1])
        assert line["model"] == "crossha" and line["controllers"] == controllers
        again = json.loads((root / f"eval-{controllers}" / "crossha.json").read_text())
        assert line["OOD"]["ASR"] == again["OOD/all"]["ASR"] and len(again["episodes"]) == 75
    assert json.loads((root / "eval-oracle" / "crossha.json").read_text()) == crossha
    assert json.loads((root / "results.json").read_text()) == results

    # given a sweep, it evaluates every seed and pairs each model's two evaluations over tasks and seeds
    sweep = tmp_path / "sweep"
    for seed in (0, 1):
        shutil.copytree(root, sweep / f"seed-{seed}")
    paired = subprocess.run([sys.executable, str(EVALUATE_RUN), str(sweep), "--model", "crossha", "--model", "mix"],
                            capture_output=True, text=True, env=ENV, timeout=300, check=False)  # fmt: skip
    assert paired.returncode == 0, paired.stderr[-3000:]
    assert [json.loads(line)["run"] for line in paired.stdout.splitlines()] == [
        str(sweep / f"seed-{seed}") for seed in (0, 0, 1, 1)
    ]
    agent = json.loads((root / "eval-agent" / "crossha.json").read_text())
    summary = json.loads((sweep / "summary-agent.json").read_text())
    cells = summary["cells"][CROSSHA_MODELS["crossha"]]
    mix = json.loads((sweep / "seed-0" / "eval-agent" / "mix.json").read_text())
    versus = summary["versus_crossha"][CROSSHA_MODELS["mix"]]  # both seeds are copies: the means are seed 0's
    assert set(summary["versus_crossha"]) == {CROSSHA_MODELS["mix"]}
    for split in ("ID", "OOD"):
        difference = agent[f"{split}/all"]["ASR"] - mix[f"{split}/all"]["ASR"]
        assert versus[f"{split} ASR, CrossHA minus this, agent"]["mean"] == pytest.approx(difference)
    for split in ("ID", "OOD"):
        own, other = crossha[f"{split}/all"]["ASR"], agent[f"{split}/all"]["ASR"]
        assert cells[f"{split} ASR, oracle"]["mean"] == pytest.approx(own)
        assert cells[f"{split} ASR, agent"]["mean"] == pytest.approx(other)
        assert cells[f"{split} ASR, agent minus oracle"]["mean"] == pytest.approx(other - own)
    assert "| Stage 3: MTRL = CrossHA (M_mtrl) |" in (sweep / "summary-agent.md").read_text()
    assert "# CrossHA against each model, both under agent" in (sweep / "summary-agent.md").read_text()

    # scripts/stage_times.py: where the wall time went, a row per stage, the first stage first
    times = subprocess.run([sys.executable, str(SCRIPT.parents[1] / "scripts" / "stage_times.py"), str(root)],
                           capture_output=True, text=True, env=ENV, timeout=120, check=False)  # fmt: skip
    assert times.returncode == 0, times.stderr[-3000:]
    rows = [line.split("|")[1].strip() for line in times.stdout.splitlines()[2:]]
    assert rows[0] == "knowledge" and {"mix", "strl", "crossha", "eval/crossha"} <= set(rows) and rows[-1] == "all"


@pytest.mark.parametrize(
    ("script", "args", "message"),
    [
        ("skill_targets.py", ["{tmp}/nowhere", "crossha"], "is missing"),
        ("evaluate_run.py", ["{tmp}/nowhere"], "is missing"),
        ("stage_times.py", ["{tmp}/nowhere"], "is missing or empty"),
        ("latent_codes.py", ["{tmp}/nowhere", "mix"], "is missing"),
        ("evaluate_run.py", ["{tmp}", "--controllers", "psychic"], "'oracle' or 'agent'"),
        ("knowledge_fit.py", ["64x2", "--out", "{tmp}/out"], "HIDDENxLAYERSxSTEPS"),
        ("knowledge_fit.py", ["64x0x10", "--out", "{tmp}/out"], "must be positive"),
        ("profile_stacks.py", ["{tmp}/nowhere"], "is missing"),
        ("profile_stacks.py", ["{tmp}/stacks", "--rate", "0"], "--rate"),
        ("profile_stacks.py", ["{tmp}/stacks"], "stacks:2 is not a py-spy raw line"),
    ],
)
def test_the_measurement_scripts_name_bad_input(tmp_path: Path, script: str, args: list[str], message: str) -> None:
    (tmp_path / "stacks").write_text("main (a.py:1) 3\nmain (a.py:1) three\n")
    argv = [str(SCRIPT.parents[1] / "scripts" / script), *(a.format(tmp=tmp_path) for a in args)]
    result = subprocess.run([sys.executable, *argv], capture_output=True, text=True, env=ENV, timeout=120, check=False)
    assert result.returncode != 0 and message in _said(result)
    assert not (tmp_path / "out").exists()


def test_profile_stacks_counts_each_stack_in_its_stage_and_activity(tmp_path: Path) -> None:
    trainer, lib = "train (examples/crossha_train.py:240)", "/src/actionspaces/training"
    stacks = [
        f"{trainer};sft_stage ({lib}/recipe.py:225);step ({lib}/updates.py:77);backward (/torch/_tensor.py:6) 30",
        f"{trainer};sft_stage ({lib}/recipe.py:225);step ({lib}/updates.py:77);response_logprobs ({lib}/policy.py:9);"
        "forward (/transformers/models/qwen2/modeling_qwen2.py:50) 12",
        f"{trainer};evaluate_models (examples/crossha_train.py:160);play_policy ({lib}/rollouts.py:50);"
        "step (/src/actionspaces/envs/craftworld/text_env.py:80) 10",
        f"{trainer};grpo (examples/crossha_train.py:150);step ({lib}/mtrl.py:90);sample ({lib}/policy.py:520);"
        "generate (/transformers/generation/utils.py:2000) 20",
        f"{trainer};tqdm (/tqdm/std.py:1) 8",
    ]
    (tmp_path / "stacks").write_text("\n".join(stacks) + "\n")
    result = subprocess.run([sys.executable, str(SCRIPT.parents[1] / "scripts" / "profile_stacks.py"),
                             str(tmp_path / "stacks"), "--rate", "10"], capture_output=True, text=True, env=ENV,
                            timeout=120, check=False)  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    rows = {tuple(c.strip() for c in line.split("|")[1:4]) for line in result.stdout.splitlines()}
    assert {("SFT", "backward", "3"), ("SFT", "scoring (forward)", "1"), ("evaluation", "env ticks", "1"),
            ("MTRL (multi-turn GRPO)", "sampling (generate)", "2"), ("other", "other", "1")} <= rows  # fmt: skip
    assert ("**all**", "", "8") in rows


@pytest.mark.parametrize("name", ["..", ".", "../outside"])
def test_a_run_name_never_reaches_outside_the_runs_directory(tmp_path: Path, name: str) -> None:
    canary = tmp_path / "canary.txt"
    canary.write_text("keep me")
    runs = tmp_path / "runs"
    runs.mkdir()
    result = _run("--preset", "ci", "--name", name, "--overwrite", runs=runs, timeout=120)
    assert result.returncode != 0 and "name" in _said(result)
    assert canary.read_text() == "keep me" and sorted(p.name for p in tmp_path.iterdir()) == ["canary.txt", "runs"]


def test_overwrite_removes_only_a_directory_a_run_wrote(tmp_path: Path) -> None:
    theirs = tmp_path / "runs" / "ci"
    theirs.mkdir(parents=True)
    (theirs / "notes.txt").write_text("not a run")
    result = _run("--preset", "ci", "--overwrite", runs=tmp_path / "runs", timeout=120)
    assert result.returncode != 0 and "refusing to delete" in _said(result)
    assert (theirs / "notes.txt").read_text() == "not a run"


def test_a_corrupted_config_is_named_and_nothing_is_deleted(tmp_path: Path) -> None:
    root = tmp_path / "ci"
    root.mkdir()
    (root / ".actionspaces-run").touch()
    (root / "config.json").write_text('{"name": "ci", "se')
    (root / "metrics.jsonl").write_text('{"stage": "mix", "iteration": 0}\n')
    result = _run("--preset", "ci", "--resume", runs=tmp_path, timeout=120)
    assert result.returncode != 0 and "config.json is unreadable" in _said(result)
    assert (root / "metrics.jsonl").read_text() == '{"stage": "mix", "iteration": 0}\n'


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--threads", "0"], "threads"),
        (["--set", "mtrl_iters=-1"], "mtrl_iters"),
        (["--set", "no_such_field=1"], "no_such_field"),
        (["--set", "sft_lr"], "FIELD=VALUE"),
        (["--set", "train_token_rows=true"], "train_token_rows needs train_layers"),
        (["--model", "/nonexistent/checkpoint"], "neither a checkpoint directory nor a known pretrained model"),
    ],
)
def test_bad_configuration_is_named(tmp_path: Path, args: list[str], message: str) -> None:
    result = _run("--preset", "ci", *args, runs=tmp_path, timeout=120)
    assert result.returncode != 0
    assert message in _said(result)


def test_a_resumed_run_refuses_a_different_config(tmp_path: Path) -> None:
    root = tmp_path / "ci"
    root.mkdir()
    (root / "config.json").write_text(preset_config("ci").model_dump_json())
    result = _run("--preset", "ci", "--resume", "--set", "mtrl_iters=5", runs=tmp_path, timeout=120)
    assert result.returncode != 0 and "mtrl_iters" in result.stderr


def test_a_stock_checkpoint_gains_the_special_tokens_and_writes_actions(tmp_path: Path) -> None:
    import torch

    from tiny_lm import tiny_model, tiny_tokenizer

    tokenizer = tiny_tokenizer()
    tiny_model(tokenizer).save_pretrained(tmp_path)
    tokenizer.save_pretrained(tmp_path)
    policy = load_pretrained(tmp_path, extra_tokens=_codebook().tokens)
    for token in ("<|latent_3|>", "<|im_end|>", "<|box_start|>"):
        assert len(policy.encode([token])[0]) == 1, token
    assert policy.model.get_input_embeddings().num_embeddings == len(policy.tokenizer)
    cfg = preset_config("ci")
    prompts = [policy.prompt("task: mine_block:dirt")] * 3
    responses = policy.sample(prompts, 1.0, max_new_tokens=cfg.max_new_tokens)
    assert len(responses) == 3 and all(1 <= len(r) <= cfg.max_new_tokens for r in responses)
    logp, mask = response_logprobs(policy, policy.encode_prompts(prompts), responses)
    assert mask.sum().item() == sum(map(len, responses))
    assert bool(torch.isfinite(logp[mask.bool()]).all()) and bool((logp[mask.bool()] <= 0).all())


def test_trl_example_runs_grpo_steps_with_our_rewards(tmp_path: Path) -> None:
    pytest.importorskip("trl")
    result = subprocess.run(
        [sys.executable, str(SCRIPT.parent / "trl_grpo.py"), "--steps", "2", "--output", str(tmp_path / "out")],
        capture_output=True, text=True, env=ENV, timeout=600, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    line = next(x for x in result.stdout.splitlines() if "GRPO steps on" in x)
    assert line.startswith("2 GRPO steps") and (tmp_path / "out" / "config.json").is_file()


@pytest.mark.parametrize(
    ("script", "args", "said"),
    [
        ("trl_sft.py", ["--steps", "2"], "2 SFT steps on"),
        ("trl_multiturn.py", ["--steps", "1", "--max-calls", "2"], "1 multi-turn GRPO steps"),
    ],
)
def test_trl_examples_run_stage_1_and_stage_3(tmp_path: Path, script: str, args: list[str], said: str) -> None:
    pytest.importorskip("trl")
    result = subprocess.run(
        [sys.executable, str(SCRIPT.parent / script), *args, "--output", str(tmp_path / "out")],
        capture_output=True, text=True, env=ENV, timeout=600, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    assert any(line.startswith(said) for line in result.stdout.splitlines()), result.stdout[-2000:]
    assert (tmp_path / "out" / "config.json").is_file() and (tmp_path / "out" / "codebook.json").is_file()


def test_strl_contexts_drop_only_true_no_ops() -> None:
    from actionspaces import ViewState
    from actionspaces.envs.craftworld.datasets import Context, strl_contexts

    def context(raw: str):
        return (Context("mine_block:dirt", "obs", ViewState(), {"raw": raw}), "raw")

    data = [
        context("Action: move(0, 0) and press()"),
        context("Action: move(0, 0) and press() and click(left)"),
        context("Action: move(3, 0) and press()"),
    ]
    kept = [c.labels["raw"] for c in strl_contexts(data)]
    assert kept == ["Action: move(0, 0) and press() and click(left)", "Action: move(3, 0) and press()"]


def test_constrained_sampling_writes_only_actions_and_scores_them_under_the_mask(tmp_path: Path) -> None:
    pytest.importorskip("llguidance")
    import torch

    from actionspaces import ChainSpace, LatentSpace
    from actionspaces.decoding import GrammarConstraint
    from actionspaces.registry import default_spaces, text_order
    from tiny_lm import tiny_model, tiny_tokenizer

    tokenizer = tiny_tokenizer()
    tiny_model(tokenizer, max_positions=512).save_pretrained(tmp_path)
    tokenizer.save_pretrained(tmp_path)
    codebook = _codebook()
    policy = load_pretrained(tmp_path, extra_tokens=codebook.tokens)
    chain = ChainSpace(default_spaces({"latent": LatentSpace(codebook_size=codebook.size)}))
    vocab = policy.model.config.vocab_size
    # the trainer's pipelines: every space (CrossHA's), or one space with raw where it cannot say the step
    for spaces in (text_order(), ("raw",), ("grounding", "raw"), ("motion", "raw")):
        grammar = GrammarConstraint.for_space(policy.tokenizer, chain, spaces=spaces, single=True, vocab_size=vocab)
        constrained = dataclasses.replace(policy, constraint=grammar)
        prompts = [policy.prompt("task: mine_block:dirt")] * 16
        responses = constrained.sample(prompts, 1.0, max_new_tokens=200)
        for ids in responses:
            assert ids[-1] == policy.tokenizer.eos_token_id, "a response was cut: raise max_new_tokens"
            parsed = chain.parse(policy.decode(ids))
            assert parsed.ok and len(parsed.levels) == 1 and parsed.spaces[0] in spaces, parsed.text
    encoded = policy.encode_prompts(prompts)
    logp, mask = response_logprobs(policy, encoded, responses, constrained.constraint.replay_masks(responses))
    free, _ = response_logprobs(policy, encoded, responses)
    inside = mask.bool()
    assert bool(torch.isfinite(logp[inside]).all()) and bool((logp[inside] >= free[inside] - 1e-5).all())
    assert bool((logp[inside] > free[inside] + 1e-3).any())  # the mask removed probability mass


@pytest.mark.slow  # a whole ci run under the grammars: run by .ci/run's `make test-slow` (the default run neared 10 min)
@pytest.mark.timeout(600)
def test_ci_preset_runs_constrained(tmp_path: Path) -> None:
    pytest.importorskip("llguidance")
    result = _run("--preset", "ci", "--constrained", "--set", "baselines=false", "--name", "cic", runs=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    root = tmp_path / "cic"
    assert json.loads((root / "config.json").read_text())["constrained"] is True
    assert {m["stage"] for m in _metrics(root)} >= {"mix", "strl", "crossha"}
    assert json.loads((root / "results.json").read_text())["models"]["crossha"]["ID/all"]["episodes"] > 0


@pytest.mark.parametrize("source", ["stock Qwen2-VL checkpoint", "tiny builder"])
def test_a_vision_policy_sees_the_frame_and_never_writes_image_tokens(tmp_path: Path, source: str) -> None:
    import numpy as np
    import torch

    from tiny_lm import tiny_qwen2_vl_checkpoint

    codebook = _codebook()
    cfg = preset_config("ci", vision=True, max_new_tokens=24)
    if source == "tiny builder":
        corpus = ["task: mine_block:dirt", "Action: move(0, 0) and press(w)", "Motion: turn left"] * 10
        policy = tiny_policy(cfg, corpus, extra_tokens=codebook.tokens)
    else:
        policy = load_pretrained(tiny_qwen2_vl_checkpoint(tmp_path), extra_tokens=codebook.tokens, vision=True)
        assert len(policy.encode(["<|latent_3|>"])[0]) == 1  # the stock tokenizer gained our special tokens
    frames = _frames()
    assert frames[0].shape == (90, 160, 3) and not np.array_equal(frames[0], frames[1])
    assert not np.array_equal(frames[1], frames[2])
    prompts = [policy.prompt("task: mine_block:dirt", frame) for frame in frames]
    encoded = policy.encode_prompts(prompts)
    image_token = policy.model.config.image_token_id
    for e in encoded:  # one placeholder per merged 2x2 patch, as Qwen2-VL's processor writes it
        patches = int(e.image_grid_thw.prod())
        assert e.pixel_values.shape[0] == patches and e.ids.count(image_token) == patches // 4 > 0

    torch.manual_seed(0)
    responses = policy.sample(prompts * 8, 1.0, max_new_tokens=cfg.max_new_tokens)
    assert all(1 <= len(r) <= cfg.max_new_tokens for r in responses)
    # these random weights write an image token about once in 70 tokens when nothing suppresses it
    assert policy.unwritable and not any(set(r) & set(policy.unwritable) for r in responses)

    logp, mask = response_logprobs(policy, encoded, responses[:3])
    inside = mask.bool()
    assert bool(torch.isfinite(logp).all()) and bool((logp[inside] < 0).all()) and bool((logp[~inside] == 0).all())
    for i in range(3):  # a batch (padded, three frames) scores each response as it would alone
        alone, alone_mask = response_logprobs(policy, [encoded[i]], [responses[i]])
        assert torch.allclose(logp[i][inside[i]], alone[0][alone_mask[0].bool()], atol=1e-5)
    dark = policy.encode_prompts([policy.prompt("task: mine_block:dirt", np.zeros_like(frames[0]))])
    in_the_dark, _ = response_logprobs(policy, dark, [responses[0]])
    assert not torch.allclose(in_the_dark[0][inside[0]], logp[0][inside[0]], atol=1e-4)  # the frame reaches the model

    with pytest.raises(ValueError, match="needs the frame"):
        policy.prompt("task: mine_block:dirt")


def test_vision_needs_a_qwen2_vl_checkpoint_with_its_image_processor(tmp_path: Path) -> None:

    from tiny_lm import tiny_model, tiny_qwen2_vl_checkpoint, tiny_tokenizer

    latents = _codebook().tokens
    text_only = tmp_path / "qwen2"
    tokenizer = tiny_tokenizer()
    tiny_model(tokenizer).save_pretrained(text_only)
    tokenizer.save_pretrained(text_only)
    with pytest.raises(ValueError, match=r"needs a Qwen2-VL checkpoint.*'qwen2'"):
        load_pretrained(text_only, extra_tokens=latents, vision=True)
    text_policy = load_pretrained(text_only, extra_tokens=latents)
    with pytest.raises(ValueError, match="text-only policy"):
        text_policy.prompt("task: mine_block:dirt", _frames()[0])

    no_processor = tiny_qwen2_vl_checkpoint(tmp_path / "qwen2vl")
    (no_processor / "preprocessor_config.json").unlink()
    with pytest.raises(FileNotFoundError, match=r"preprocessor_config\.json"):
        load_pretrained(no_processor, extra_tokens=latents, vision=True)
    # without --vision a Qwen2-VL checkpoint is a text model
    policy = load_pretrained(no_processor, extra_tokens=latents)
    assert policy.images is None and policy.model.config.model_type == "qwen2_vl"
    result = _run("--preset", "ci", "--vision", "--model", str(text_only), runs=tmp_path / "runs", timeout=120)
    assert result.returncode != 0 and "needs a Qwen2-VL checkpoint" in _said(result)
    assert "Traceback" not in result.stderr


@pytest.mark.slow  # 2.5 minutes: run by .ci/run's `make test-slow`
@pytest.mark.timeout(600)
def test_ci_preset_trains_a_qwen2_vl_checkpoint_on_the_frames(tmp_path: Path) -> None:
    from tiny_lm import tiny_qwen2_vl_checkpoint

    checkpoint = tiny_qwen2_vl_checkpoint(tmp_path / "qwen2vl")
    args = ("--preset", "ci", "--vision", "--model", str(checkpoint), "--set", "baselines=false", "--name", "civ",
            "--set", "system_prompt=You play.")  # fmt: skip
    result = _run(*args, runs=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    root = tmp_path / "civ"
    cfg = json.loads((root / "config.json").read_text())
    assert cfg["vision"] is True and cfg["model"] == str(checkpoint)
    assert {m["stage"] for m in _metrics(root)} >= {"mix", "cs1", "strl", "cs2", "crossha"}
    assert all(m["loss"] == m["loss"] for m in _metrics(root) if "loss" in m)  # no NaN
    for name in ("mix", "strl", "crossha"):
        ckpt = root / "checkpoints" / name
        assert (ckpt / "preprocessor_config.json").is_file()
        saved = json.loads((ckpt / "config.json").read_text())
        assert saved["model_type"] == "qwen2_vl" and saved["actionspaces_system_prompt"] == "You play."
    results = json.loads((root / "results.json").read_text())
    assert results["models"]["crossha"]["ID/all"]["episodes"] == 30
    # a finished run resumes by loading every checkpoint as a Qwen2-VL with its image processor
    again = _run(*args, "--resume", runs=tmp_path)
    assert again.returncode == 0, again.stderr[-3000:]
    assert json.loads((root / "results.json").read_text()) == results


def _results(held_out: int, wins: dict[str, float], seed: int) -> dict:
    """A run's evaluation in which each model solves a task with probability ``wins[model]``."""
    rng = __import__("numpy").random.default_rng(seed)
    registry = list(evaluations([], held_out).splits)
    results = {}
    for model in CROSSHA_MODELS:
        tokens = 40 if model == "crossha" else 60
        spaces = {"mine_block": "grounding", "kill_entity": "language", "craft_item": "raw"}
        episodes = [
            {
                "task": t,
                "seed": 0,
                "success": float(rng.random() < wins.get(model, 0.1)),
                "tokens": tokens,
                "calls": 4,
                "ticks": 100,
                "spaces": {spaces[t.split(":")[0]]: 3, "motion": 1},
            }
            for t in registry
        ]
        summary = {f"{split}/all": {"ASR": 0.0, "tokens_per_episode": 0.0} for split in ("ID", "OOD")}
        results[model] = {**summary, "episodes": episodes}
    return results


def test_the_findings_judge_each_claim_by_its_interval_over_seeds() -> None:
    runs = [_results(30, {"crossha": 0.9, "cs2": 0.9}, seed) for seed in range(3)]
    lines = findings(evaluations(runs, 30), categories=CATEGORIES)
    assert len(lines) == 5  # the four claims and the knowledge stage's part
    assert lines[0].startswith("CrossHA above every baseline in OOD ASR: supported")
    assert lines[1].startswith("STRL raises OOD ASR: supported")
    assert lines[2].startswith("Token penalty lowers tokens per episode: supported (difference 20.000 [20.000, 20.000]")
    assert lines[3].startswith("Selection differs by category: supported")
    assert lines[4].startswith("The knowledge stage (M_base) raises OOD ASR: supported")
    assert re.search(r"; in ID ASR 0\.[5-9]\d+ \[0\.\d+, 0\.\d+\]\)$", lines[4]), lines[4]
    even = [_results(30, {}, seed) for seed in range(3)]
    assert "STRL raises OOD ASR: inconclusive" in findings(evaluations(even, 30), categories=CATEGORIES)[1]
    worse = [_results(30, {"nostrl_mtrl": 0.9}, seed) for seed in range(3)]
    judged = findings(evaluations(worse, 30), categories=CATEGORIES)
    assert judged[0].startswith("CrossHA above every baseline in OOD ASR: not supported")


def test_the_sweep_report_gives_intervals_and_per_seed_rows(tmp_path: Path) -> None:
    held_out = preset_config("ci").eval_held_out
    runs = [_results(held_out, {"crossha": 0.5}, seed) for seed in (4, 7)]
    evals = evaluations(runs, held_out)
    write_sweep_report(tmp_path, evals, seeds=(4, 7), facts=["a finding"], title="demo", wall_s=90.0)
    summary = json.loads((tmp_path / "summary.json").read_text())
    cell = summary["cells"]["crossha"]["OOD ASR"]
    assert cell["low"] <= cell["mean"] <= cell["high"] and summary["seeds"] == [4, 7]
    assert set(summary["per_seed"]["crossha"]) == {"4", "7"}
    md = (tmp_path / "summary.md").read_text()
    assert re.search(r"\| Stage 3: MTRL = CrossHA \(M_mtrl\) \| [\d.]+ \[[\d.]+, [\d.]+\] \|", md)
    assert "## Per seed" in md and "| Stage 3: MTRL = CrossHA (M_mtrl) | 7 |" in md and "1.5 min for 2 seeds" in md


@pytest.mark.parametrize("seeds", ["1,1", "a,b", "-1", ""])
def test_bad_seeds_are_named(tmp_path: Path, seeds: str) -> None:
    result = _run("--preset", "ci", "--seeds", seeds, runs=tmp_path, timeout=120)
    assert result.returncode != 0 and "--seeds" in _said(result)
    assert not (tmp_path / "ci").exists()


@pytest.mark.slow  # 1.7 minutes: run by .ci/run's `make test-slow`
@pytest.mark.timeout(900)
def test_a_sweep_trains_each_seed_and_resumes_to_the_same_summary(tmp_path: Path) -> None:
    tiny = ["--set", "sft_steps=20", "--set", "finetune_steps=0", "--set", "strl_iters=1", "--set", "mtrl_iters=1",
            "--set", "base_steps=20", "--set", "rs_contexts=4", "--set", "eval_held_out=2", "--set", "baselines=false",
            "--set", "ablate_base=true"]  # fmt: skip
    result = _run("--preset", "ci", "--seeds", "0,1", "--name", "sw", *tiny, runs=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    root = tmp_path / "sw"
    assert json.loads((root / "config.json").read_text())["seeds"] == [0, 1]
    for seed in (0, 1):
        config = json.loads((root / f"seed-{seed}" / "config.json").read_text())
        assert config["seed"] == seed and (root / f"seed-{seed}" / "results.json").is_file()
    assert (root / "seed-0" / "checkpoints" / "nobase_crossha" / "progress.json").is_file()
    summary = json.loads((root / "summary.json").read_text())
    assert "CrossHA w/o M_base" in (root / "summary.md").read_text()
    assert summary["findings"][-1].startswith("The knowledge stage (M_base) raises OOD ASR:")
    # a finished seed is read from its results.json: its checkpoints are not needed (a seed run elsewhere)
    shutil.rmtree(root / "seed-0" / "checkpoints")
    again = _run("--preset", "ci", "--seeds", "0,1", "--name", "sw", "--resume", *tiny, runs=tmp_path)
    assert again.returncode == 0, again.stderr[-3000:]
    assert json.loads((root / "summary.json").read_text())["cells"] == summary["cells"]
    assert not (root / "seed-0" / "checkpoints").exists()
    other = _run("--preset", "ci", "--seeds", "0,2", "--name", "sw", "--resume", *tiny, runs=tmp_path, timeout=120)
    assert other.returncode != 0 and "seeds" in _said(other)
