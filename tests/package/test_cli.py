import json
import re

import pytest
from typer.testing import CliRunner

import actionspaces as asp
from actionspaces.cli import app, read_field

runner = CliRunner()


def test_parse_pretty_and_json():
    ok = runner.invoke(app, ["parse", "Motion: turn left\nAction: move(-5, 0) and press(w)"])
    assert ok.exit_code == 0 and "executes raw" in ok.output and "'forward': 1" in ok.output
    bad = runner.invoke(app, ["parse", "-", "--json"], input="Action: press(jump)")
    assert bad.exit_code == 1
    result = json.loads(bad.output)
    error = result["errors"][0]
    assert {k: error[k] for k in ("space", "message", "position", "line", "column")} == {
        "space": "raw",
        "message": "unknown key 'jump' (did you mean 'space'?)",
        "position": 14,
        "line": 1,
        "column": 15,
    }
    assert "space" in error["expected"] and not any("reserved" in e for e in error["expected"])
    caret = runner.invoke(app, ["parse", "Action: press(jump)"])
    assert caret.exit_code == 1 and "              ^" in caret.output


def test_grammar_command():
    out = runner.invoke(app, ["grammar", "raw"])
    assert out.exit_code == 0 and "press" in out.output
    assert runner.invoke(app, ["grammar", "nope"]).exit_code == 2


def test_grammar_command_prints_generation_grammars():
    out = runner.invoke(app, ["grammar", "chain", "--generation", "--spaces", "raw,grounding"])
    assert out.exit_code == 0
    assert out.output.startswith('start: "Grounding: " grounding start_after0 | "Action: " raw')
    assert "<|point_start|>" in out.output and "motion" not in out.output
    unknown = runner.invoke(app, ["grammar", "chain", "--generation", "--spaces", "raw,foo"])
    assert unknown.exit_code == 2 and "unknown space(s) ['foo']" in unknown.output
    assert runner.invoke(app, ["grammar", "raw", "--spaces", "raw"]).exit_code == 2


def test_validate_counts_and_exit_codes(tmp_path):
    good = tmp_path / "good.jsonl"
    good.write_text('{"text": "Action: press(w)"}\n\n{"text": "Motion: jump"}\n')
    out = runner.invoke(app, ["validate", str(good)])
    assert out.exit_code == 0 and "2 responses, 2 parsed, 0 failed" in out.output
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"out": "Action: press(jump)"}\n{"out": "Action: press(jump2)"}\nnot json\n{"other": 1}\n')
    out = runner.invoke(app, ["validate", str(bad), "--field", "out"])
    assert out.exit_code == 1 and "4 responses, 0 parsed, 4 failed" in out.output
    assert "raw: unknown key '…'" in out.output and "│     2 │" in out.output
    assert "input: not JSON" in out.output and "input: no string at out" in out.output
    assert "cannot read out: no key 'out' (the record has: other)" in out.output
    assert runner.invoke(app, ["validate", str(tmp_path / "missing.jsonl")]).exit_code == 2


def test_validate_reads_nested_chat_fields_and_prints_json(tmp_path):
    chat = tmp_path / "chat.jsonl"
    records = [
        {"messages": [{"role": "user", "content": "go"}, {"role": "assistant", "content": "Action: press(w)"}]},
        {"messages": [{"role": "assistant", "content": "I act. <raw>jmup</raw>"}]},
        {"messages": []},
    ]
    chat.write_text("".join(json.dumps(r) + "\n" for r in records))
    out = runner.invoke(app, ["validate", str(chat), "--field", "messages[-1].content", "--json"])
    assert out.exit_code == 1
    rows = [json.loads(line) for line in out.output.splitlines()]
    assert [r.get("line") for r in rows[:3]] == [1, 2, 3]
    assert rows[0]["ok"] and rows[0]["env_action"]["forward"] == 1
    assert not rows[1]["ok"] and rows[1]["errors"][0]["space"] == "raw" and rows[1]["reasoning"][0]["text"] == "I act."
    assert rows[2] == {"line": 3, "ok": False, "input_error": "index [-1] is out of range: messages has 0 items"}
    assert rows[3]["summary"] == {
        "responses": 3, "parsed": 1, "failed": 2, "levels": {"raw": 2},
        "errors": {"raw: unexpected '…' (did you mean '…'?)": 1, "input: no string at messages[-1].content": 1},
    }  # fmt: skip
    quiet = runner.invoke(app, ["validate", str(chat), "--field", "messages[-1].content", "--json", "-q"])
    assert [json.loads(line).get("line") for line in quiet.output.splitlines()] == [2, 3, None]


@pytest.mark.parametrize(
    ("record", "path", "message"),
    [
        ({"a": {"b": 1}}, "a.b", "a.b is a number, not a string"),
        ({"a": "x"}, "a[0]", "a is a string, not a list to index with [0]"),
        ({"a": [1]}, "a.b", "a is a list, not an object with key 'b'"),
        ({"a": 1}, "a..b", "malformed field path 'a..b'"),
        ({"a": 1}, "", "empty field path"),
        ([1, 2], "x", "the record is a list, not an object with key 'x'"),
    ],
)
def test_field_paths_say_what_was_found(record, path, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        read_field(record, path)


def test_version_and_help_are_plain():
    out = runner.invoke(app, ["--version"])
    assert out.exit_code == 0 and out.output.strip() == f"actionspaces {asp.__version__}"
    helped = runner.invoke(app, ["validate", "--help"])
    assert helped.exit_code == 0 and "``" not in helped.output and "messages[-1].content" in helped.output


def test_bench_refuses_zero_responses():
    out = runner.invoke(app, ["bench", "--n", "0"])
    assert out.exit_code == 2 and "--n" in out.output


def test_bench_command():
    out = runner.invoke(app, ["bench", "--n", "20"])
    assert out.exit_code == 0 and "grounding" in out.output


def test_messages_with_brackets_are_printed_verbatim():
    out = runner.invoke(app, ["parse", "Action: press([red])"])
    assert out.exit_code == 1 and "[" in out.output and "press([red])" in out.output
