import json

from typer.testing import CliRunner

from actionspaces.cli import app

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
    assert "input: JSONDecodeError" in out.output and "input: KeyError" in out.output
    assert runner.invoke(app, ["validate", str(tmp_path / "missing.jsonl")]).exit_code == 2


def test_bench_command():
    out = runner.invoke(app, ["bench", "--n", "20"])
    assert out.exit_code == 0 and "grounding" in out.output


def test_messages_with_brackets_are_printed_verbatim():
    out = runner.invoke(app, ["parse", "Action: press([red])"])
    assert out.exit_code == 1 and "[" in out.output and "press([red])" in out.output
