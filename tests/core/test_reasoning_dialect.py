"""The reasoning dialect of OpenHA's RL models: prose around tagged levels (openha-formats.md §1.8)."""

import itertools

import pytest

import actionspaces as asp
from actionspaces import GroundingSpace, ParseError, Point, RawAction, RawSpace

# In the style of the reference's single-step RL rollouts (written for these tests, not taken from them).
CRAFT = (
    "My task is to craft the item: oak_door. I need to open the recipe book first. The Skill ACTION is\n"
    "<skill>Open the recipe book</skill>. The cursor is located atcursor(512,430)\n"
    ". The object: recipe book is located atrecipe book(371,388)\n"
    ". The cursor is not on the object: recipe book. The Grounding action is <grounding> move_to (372,390)\n"
    "</grounding>. The Raw ACTION is <raw></raw>."
)


def test_prose_around_tags_is_reasoning_and_the_grounding_level_executes():
    chain = asp.parse(CRAFT)
    assert chain.ok, chain.errors
    assert chain.spaces == ("language", "grounding")
    assert chain.level("language").action.text == "Open the recipe book"
    command = chain.executable.action.commands[0]
    assert chain.executable.space == "grounding" and chain.executable.tagged
    assert (command.verb, command.target, command.label) == ("move_to", Point(x=372, y=390), None)
    assert chain.reasoning[0].text.startswith("My task is to craft the item: oak_door.")
    assert "atrecipe book(371,388)" in chain.reasoning[1].text
    for part in chain.reasoning:
        assert CRAFT[slice(*part.span)] == part.text and part.text == part.text.strip()
    # every character is in a level, in the reasoning, in the empty raw tag, or is whitespace
    covered = sorted([lv.span for lv in chain.levels] + [r.span for r in chain.reasoning])
    rest = "".join(CRAFT[a:b] for (_, a), (b, _) in itertools.pairwise(covered))
    assert CRAFT[: covered[0][0]].strip() == CRAFT[covered[-1][1] :].strip() == ""
    assert rest.split() == ["<raw></raw>"]


def test_chat_wrapper_around_a_tagged_response():
    chain = asp.parse("<|im_start|>assistant\n" + CRAFT + "<|im_end|><|endoftext|>")
    assert chain.ok and chain.executable.space == "grounding"


@pytest.mark.parametrize(
    ("body", "verb", "label", "point"),
    [
        ("move_to (372,390)", "move_to", None, (372, 390)),
        ("left_click (640,512)", "left_click", None, (640, 512)),
        ("right click (420,610)", "right_click", None, (420, 610)),
        ("move to (0,999)", "move_to", None, (0, 999)),
        ("Mine block(512,300)", "mine", "block", (512, 300)),
        ("Kill sheep (12,34)", "kill", "sheep", (12, 34)),
        ("Approach oak log(5,6)", "approach", "oak log", (5, 6)),
        (" move_to (372,390)\n", "move_to", None, (372, 390)),
    ],
)
def test_bare_points_and_verbs(body, verb, label, point):
    chain = asp.parse(f"I will act. <grounding>{body}</grounding>")
    assert chain.ok, chain.errors
    command = chain.executable.action.commands[0]
    assert (command.verb, command.label, command.target) == (verb, label, Point(x=point[0], y=point[1]))


def test_left_click_clicks_in_the_gui_and_attacks_in_the_world():
    space = GroundingSpace()
    action = space.parse("left_click (500,500)")
    assert space.render(action) == "Grounding: left click <|point_start|>(500,500)<|point_end|>"
    assert space.parse(space.render(action)) == action
    in_gui = asp.ViewState(gui_open=True, cursor=(320.5, 180.5))
    assert space.canonicalize(action, in_gui).buttons == {"attack"}
    aimed = asp.ViewState(gui_open=False)
    assert space.canonicalize(action, aimed).buttons == {"attack"}


def test_several_grounding_commands_joined_by_and():
    chain = asp.parse("<grounding>move_to (1,2) and left_click (3,4)</grounding>")
    assert [c.verb for c in chain.executable.action.commands] == ["move_to", "left_click"]


def test_empty_tags_are_absent_levels():
    chain = asp.parse("<skill>chop the tree</skill> <grounding>Mine (5,5)</grounding> <raw></raw> <motion> </motion>")
    assert chain.ok and chain.spaces == ("language", "grounding")
    assert chain.executable.space == "grounding"
    nothing = asp.parse("I have nothing to do. <raw></raw><grounding>\n</grounding>")
    assert not nothing.ok and nothing.executable is None
    assert "no action" in nothing.errors[0].message


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("camera move -3,5forwardattack", RawAction(dx=5 / 0.15, dy=-3 / 0.15, buttons={"forward", "attack"})),
        ("hotbar 3jump", RawAction(buttons={"hotbar.3", "jump"})),
        ("forwardsprintjump", RawAction(buttons={"forward", "sprint", "jump"})),
        ("back left sneak use", RawAction(buttons={"back", "left", "sneak", "use"})),
        ("inventory", RawAction(buttons={"inventory"})),
        ("drop", RawAction(buttons={"drop"})),
        ("camera move 0.5,-1.5", RawAction(dx=-10, dy=10 / 3)),
        ("move(19, 0) and press(w)", RawAction(dx=19, buttons={"forward"})),
        (
            "<|reserved_special_token_178|><|reserved_special_token_191|><|reserved_special_token_179|>",
            RawAction(buttons={"forward"}),
        ),
    ],
)
def test_the_raw_dialect_inside_raw_tags(raw, expected):
    chain = asp.parse(f"<grounding>move_to (1,2)</grounding> The Raw ACTION is <raw>{raw}</raw>.")
    assert chain.ok, chain.errors
    assert chain.executable.space == "raw"
    action = chain.executable.action
    assert (action.dx, action.dy) == pytest.approx((expected.dx, expected.dy)) and action.buttons == expected.buttons


@pytest.mark.parametrize(
    ("raw", "at", "needle"),
    [
        ("forward, jump", ", jump", "unexpected ','"),
        ("forwardforward", "forward</raw>", "twice"),
        ("camera move 200,0", "200", "exceeds"),
        ("camera move 1,2camera move 3,4", "camera move 3", "second camera move"),
        ("hotbar 0", "hotbar 0", "unexpected"),
        ("jumpp", "p</raw>", "unexpected"),
        ("设置 attack", "设置", "unexpected character"),
        ("def f(): pass", "def", "unexpected"),
    ],
)
def test_garbage_inside_a_tag_is_that_levels_error_with_its_position(raw, at, needle):
    text = f"Thinking. <grounding>move_to (1,2)</grounding> <raw>{raw}</raw>."
    chain = asp.parse(text)
    assert not chain.ok
    level = chain.executable
    assert level.space == "raw" and not level.ok  # a broken raw level never falls back to grounding
    assert needle in level.error.message
    assert text[level.error.position :].startswith(at), (text[level.error.position :], at)
    with pytest.raises(ParseError):
        asp.ChainSpace().canonicalize(chain)


def test_garbage_in_a_grounding_tag_points_at_it():
    text = "So <grounding>move_to (x,y)</grounding>"
    error = asp.parse(text).errors[0]
    assert error.space == "grounding" and text[error.position :].startswith("x,y)")
    outside = asp.parse("<grounding>Mine (5,1000)</grounding>").errors[0]
    assert "outside the image grid" in outside.message


def test_structural_tag_errors():
    unclosed = asp.parse("I will <raw>forward and think more")
    assert [e.message for e in unclosed.errors] == ["<raw> is never closed"]
    assert unclosed.errors[0].expected == ("</raw>",)
    stray = asp.parse("</grounding> then <raw>forward</raw>")
    assert stray.executable.ok and stray.errors[0].message == "</grounding> closes no open tag"
    many = asp.parse("<raw>" * 500)
    assert [e.message for e in many.errors] == ["<raw> is never closed (and 499 more)"]
    nested = asp.parse("<raw><raw>forward</raw>")  # the inner opening tag is part of the body: an error there
    assert nested.executable.space == "raw" and not nested.executable.ok


def test_a_prefixed_level_in_the_reasoning_of_a_tagged_response_is_an_error():
    text = "<grounding>move_to (1,2)</grounding>\nAction: move(1, 2) and press()"
    chain = asp.parse(text)
    assert not chain.ok and chain.executable.space == "grounding" and chain.executable.ok
    error = chain.chain_errors[0]
    assert "prefixed level (Action:)" in error.message and text[error.position :].startswith("Action:")
    for spelled in ["**Action**: move(1, 2)", "Action" + " " * 40 + ": move(1, 2)", "motion： turn left"]:
        found = asp.parse(f"<raw>forward</raw>\n{spelled}")
        assert "in the reasoning of a tagged response" in found.errors[0].message, spelled
    # a colon in prose is not a prefix
    assert asp.parse("Note: the item is here. <raw>forward</raw>").ok
    assert asp.parse("The Raw ACTION is <raw>forward</raw>. My action: forward.").ok


def test_prefixed_responses_keep_their_rules():
    assert not asp.parse("I will chop the tree.\nAction: move(0, 0) and press()").ok
    assert asp.parse("Grounding: move_to (1,2)\nAction: forward").ok  # the new forms work behind prefixes too


def test_spans_and_positions_of_tagged_levels():
    text = "abc <raw>  forward </raw> def"
    chain = asp.parse(text)
    level = chain.levels[0]
    assert text[slice(*level.span)] == "<raw>  forward </raw>"
    assert text[slice(*level.body_span)] == "forward"
    assert [r.text for r in chain.reasoning] == ["abc", "def"]


def test_to_dict_serialises_the_chain():
    data = asp.parse(CRAFT).to_dict(asp.ViewState(gui_open=True, cursor=(372 * 0.64, 390 * 0.36)))
    assert data["ok"] and data["executable_space"] == "grounding"
    assert [lv["space"] for lv in data["levels"]] == ["language", "grounding"]
    assert data["levels"][1]["action"]["commands"][0]["verb"] == "move_to"
    assert data["reasoning"][0]["text"].startswith("My task")
    assert data["env_action"] is not None and data["errors"] == []
    skill_only = asp.parse("<skill>chop</skill>").to_dict()
    assert skill_only["env_action"] is None and "resolver" in skill_only["execution_error"]
    import json

    assert json.loads(asp.parse("Action: press(jump)").to_json())["errors"][0]["space"] == "raw"


def test_raw_space_reads_the_word_dialect_on_its_own():
    space = RawSpace()
    assert space.parse("Action: hotbar 2attack").buttons == {"hotbar.2", "attack"}
    with pytest.raises(ParseError, match="unexpected"):
        space.parse("Action: forward and move(1, 2)")  # the two forms do not mix
