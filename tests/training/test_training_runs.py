"""Run directories and checkpoints that never lose data (actionspaces.training), without torch."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from actionspaces.training import (
    RUN_MARKER,
    Checkpoints,
    RunFileError,
    append_jsonl,
    available_cores,
    create_run,
    read_json,
    read_jsonl,
    remove_run,
    run_directory,
)


@pytest.mark.parametrize("name", ["..", ".", "", "a/b", "../x", ".hidden", "-rf", "a\\b", "x" * 200])
def test_run_names_stay_inside_the_runs_directory(tmp_path: Path, name: str) -> None:
    with pytest.raises(ValueError, match="run name"):
        run_directory(tmp_path / "runs", name)


def test_a_link_out_of_the_runs_directory_is_refused(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    runs.mkdir()
    (runs / "escape").symlink_to(tmp_path)
    with pytest.raises(ValueError, match="outside"):
        run_directory(runs, "escape")


def test_remove_run_deletes_only_what_a_run_wrote(tmp_path: Path) -> None:
    canary = tmp_path / "canary.txt"
    canary.write_text("keep me")
    runs = tmp_path / "runs"
    mine = create_run(run_directory(runs, "mine"))
    (mine / "metrics.jsonl").write_text("{}\n")
    remove_run(mine)
    assert not mine.exists() and canary.read_text() == "keep me"
    theirs = runs / "theirs"
    theirs.mkdir()
    (theirs / "thesis.tex").write_text("years of work")
    with pytest.raises(PermissionError, match=RUN_MARKER):
        remove_run(theirs)
    with pytest.raises(FileExistsError, match="not written by a run"):
        create_run(theirs)
    (runs / "link").symlink_to(theirs)
    with pytest.raises(PermissionError, match="link"):
        remove_run(runs / "link")
    assert (theirs / "thesis.tex").read_text() == "years of work"
    remove_run(runs / "absent")  # nothing to do


def test_jsonl_survives_a_partial_last_line_and_names_a_corrupted_one(tmp_path: Path) -> None:
    log = tmp_path / "metrics.jsonl"
    append_jsonl(log, {"iteration": 0})
    with log.open("a") as f:
        f.write('{"iteration": 1, "los')  # a kill during the append
    with pytest.warns(UserWarning, match="partial last line"):
        assert read_jsonl(log) == [{"iteration": 0}]
    append_jsonl(log, {"iteration": 1})  # the fragment is cut off first, not glued to
    assert read_jsonl(log) == [{"iteration": 0}, {"iteration": 1}]
    log.write_text('{"iteration": 0}\nnot json\n{"iteration": 2}\n')
    with pytest.raises(RunFileError, match=r"metrics\.jsonl line 2"):
        read_jsonl(log)
    assert read_jsonl(tmp_path / "absent.jsonl") == []


def test_read_json_names_the_damaged_file(tmp_path: Path) -> None:
    path = tmp_path / "config.json"
    path.write_text('{"name": "qu')
    with pytest.raises(RunFileError, match=r"config\.json is truncated or corrupted"):
        read_json(path)
    with pytest.raises(RunFileError, match="missing"):
        read_json(tmp_path / "nope.json")


def _write(value: str):
    return lambda directory: (directory / "weights.txt").write_text(value)


def _load(directory: Path) -> str:
    value = (directory / "weights.txt").read_text()
    if not value:
        raise ValueError(f"{directory / 'weights.txt'} is empty")
    return value


def test_checkpoints_fall_back_to_the_previous_one_and_say_which_file(tmp_path: Path) -> None:
    ckpt = Checkpoints(tmp_path)
    assert ckpt.resume("sft", _load) is None and not ckpt.exists("sft")
    ckpt.save("sft", _write("a"), {"iteration": 1})
    ckpt.save("sft", _write("b"), {"iteration": 2})
    assert ckpt.resume("sft", _load) == ({"iteration": 2}, "b")
    (tmp_path / "sft" / "weights.txt").write_text("")  # truncated by a full disk
    with pytest.warns(UserWarning, match=r"sft/weights.txt is empty"):
        assert ckpt.resume("sft", _load) == ({"iteration": 1}, "a")
    (tmp_path / "sft" / "progress.json").write_text("{")  # and a torn progress file
    with pytest.warns(UserWarning, match=r"progress\.json is truncated"):
        assert ckpt.resume("sft", _load) == ({"iteration": 1}, "a")
    (tmp_path / "sft.prev" / "weights.txt").write_text("")
    with pytest.warns(UserWarning):
        assert ckpt.resume("sft", _load) is None  # nothing good left: the stage starts over


def test_an_interrupted_save_leaves_the_last_checkpoint_in_place(tmp_path: Path) -> None:
    ckpt = Checkpoints(tmp_path)
    ckpt.save("rl", _write("good"), {"iteration": 3})

    def killed(directory: Path) -> None:
        (directory / "weights.txt").write_text("half")
        raise KeyboardInterrupt  # the process dies while writing

    with pytest.raises(KeyboardInterrupt):
        ckpt.save("rl", killed, {"iteration": 4})
    assert ckpt.resume("rl", _load) == ({"iteration": 3}, "good")
    ckpt.save("rl", _write("next"), {"iteration": 4})  # the leftover .tmp is ours and is replaced
    assert ckpt.resume("rl", _load) == ({"iteration": 4}, "next")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["rl", "rl.prev"]


def test_a_save_without_its_previous_removes_it_only_once_the_new_one_is_in_place(tmp_path: Path) -> None:
    ckpt = Checkpoints(tmp_path)
    ckpt.save("sft", _write("a"), {"iteration": 1})
    ckpt.save("sft", _write("b"), {"iteration": 2})

    def killed(directory: Path) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        ckpt.save("sft", killed, {"iteration": 3}, keep_previous=False)
    assert (tmp_path / "sft.prev").is_dir()  # a failed save removes nothing
    ckpt.save("sft", _write("c"), {"iteration": 3}, keep_previous=False)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sft"]
    assert ckpt.resume("sft", _load) == ({"iteration": 3}, "c")


def test_available_cores_follows_the_affinity_mask() -> None:
    if hasattr(os, "sched_getaffinity"):
        assert available_cores() == len(os.sched_getaffinity(0))
    assert available_cores() >= 1
    json.dumps(available_cores())


@pytest.mark.parametrize("name", ["..", "../outside", "a/b", ".hidden"])
def test_a_checkpoint_name_never_reaches_outside_its_root(tmp_path: Path, name: str) -> None:
    root = tmp_path / "checkpoints"
    ckpt = Checkpoints(root)
    with pytest.raises(ValueError, match="not a plain name"):
        ckpt.save(name, _write("x"), {"iteration": 1})
    with pytest.raises(ValueError, match="not a plain name"):
        ckpt.resume(name, _load)
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_open_run_starts_resumes_and_refuses_what_it_must(tmp_path: Path) -> None:
    from pydantic import BaseModel

    from actionspaces.training import open_run

    class Cfg(BaseModel):
        lr: float = 0.1
        steps: int = 3

    root = open_run(tmp_path, "a", Cfg(), resume=False, overwrite=False)
    assert (root / RUN_MARKER).is_file() and json.loads((root / "config.json").read_text()) == {"lr": 0.1, "steps": 3}
    (root / "metrics.jsonl").write_text("{}\n")
    with pytest.raises(ValueError, match="exists: resume it or overwrite it"):
        open_run(tmp_path, "a", Cfg(), resume=False, overwrite=False)
    assert open_run(tmp_path, "a", Cfg(), resume=True, overwrite=False) == root
    assert (root / "metrics.jsonl").read_text() == "{}\n"  # resuming keeps what the run wrote
    with pytest.raises(ValueError, match=r"different config \(fields \['lr', 'steps'\]\)"):
        open_run(tmp_path, "a", Cfg(lr=0.2, steps=4), resume=True, overwrite=False)
    (root / "config.json").write_text('{"lr": ')
    with pytest.raises(ValueError, match=r"config\.json is unreadable"):
        open_run(tmp_path, "a", Cfg(), resume=True, overwrite=False)
    open_run(tmp_path, "a", Cfg(lr=0.3), resume=False, overwrite=True)
    assert not (root / "metrics.jsonl").exists() and '"lr":0.3' in (root / "config.json").read_text().replace(" ", "")
    with pytest.raises(ValueError, match="not a plain name"):
        open_run(tmp_path, "..", Cfg(), resume=False, overwrite=True)
    theirs = tmp_path / "theirs"
    theirs.mkdir()
    (theirs / "notes.txt").write_text("keep")
    with pytest.raises(PermissionError, match="refusing to delete"):
        open_run(tmp_path, "theirs", Cfg(), resume=False, overwrite=True)
    with pytest.raises(FileExistsError, match="not written by a run"):
        open_run(tmp_path, "theirs", Cfg(), resume=False, overwrite=False)
    assert (theirs / "notes.txt").read_text() == "keep"
