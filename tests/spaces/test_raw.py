import pytest

import actionspaces as asp
from actionspaces import CanonicalAction, ParseError, RawAction, RawSpace

space = RawSpace()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Action: move(19, 0) and press()", RawAction(dx=19)),
        ("Action: move(0, 0) and press()", RawAction()),
        ("Action: no_op", RawAction()),
        ("no-op", RawAction()),
        ("Action: move(-5, 3) and press(w, space) and click(left)", RawAction(dx=-5, dy=3, buttons={"forward", "jump", "attack"})),
        ("Action: move('3.0', '0.0') and click('left')", RawAction(dx=3, buttons={"attack"})),
        ('Action: move("1.5", "-2e1"), press("w", \'s\'), click("right")', RawAction(dx=1.5, dy=-20, buttons={"forward", "back", "use"})),
        ("Action: move(dx='4.0', dy='-1.0') and keyDown(keys=(keyboard.left.control, keyboard.w))", RawAction(dx=4, dy=-1, buttons={"sprint", "forward"})),
        ("Action: move(dy=2, dx=1)", RawAction(dx=1, dy=2)),
        ("Action: press(key.keyboard.e, ESC, shift, ctrl, 9)", RawAction(buttons={"inventory", "ESC", "sneak", "sprint", "hotbar.9"})),
        ("Action: click(middle)", RawAction(buttons={"pickItem"})),
        ("Action: click(button=right)", RawAction(buttons={"use"})),
        ("ACTION:   MOVE( 1 , 2 )   AND   PRESS( W )", RawAction(dx=1, dy=2, buttons={"forward"})),
        ("Action: move(1,2) , press(q, f)", RawAction(dx=1, dy=2, buttons={"drop", "swapHands"})),
        ("Action: press(w) and press(space)", RawAction(buttons={"forward", "jump"})),
        ("Action: move(1200, -1200)", RawAction(dx=1200, dy=-1200)),
    ],
)  # fmt: skip
def test_accepted_forms(text, expected):
    assert space.parse(text) == expected


@pytest.mark.parametrize(
    ("text", "at", "needle"),
    [
        ("Action: move(4, x)", "x)", "dy must be a finite number"),
        ("Action: move('dx', 'dy')", "'dx'", "dx must be a finite number"),
        ("Action: press(keys)", "keys", "unknown key"),
        ("Action: press('w', \"jump\")", '"jump"', "unknown key"),
        ("Action: click(up)", "up", "unknown mouse button"),
        ("Action: click('left' or 'right')", "or", "unexpected"),
        ("Action: move(1, 2) and move(3, 4)", "move(3", "second move"),
        ("Action: move(1201, 0)", "1201", "exceeds"),
        ("Action: move(1e400, 0)", "1e400", "finite"),
        ("Action: move(dz=1, dy=2)", "dz", r"unknown move\(\) argument"),
        ("Action: move(dx=1, 2)", "2)", "positional argument after a keyword"),
        ("Action: move(1, 2) and", "", "unexpected end"),
        ("Action: move(1, 2) and and press()", "and press", "unexpected"),
        ("Action: jmup", "jmup", r"unexpected 'jmup' \(did you mean 'jump'\?\)"),
        ("Action:", "", "empty raw action"),
        ("Action: move(1, 2)\nAction: move(3, 4)", "\nAction", "unexpected"),
        ("Action: <|reserved_special_token_178|><|reserved_special_token_12|><|reserved_special_token_179|>", "<|reserved_special_token_12|>", "not an action token"),
        ("Action: <|reserved_special_token_178|><|reserved_special_token_179|><|reserved_special_token_204|>", "<|reserved_special_token_204|>", "after the end"),
    ],
)  # fmt: skip
def test_errors_point_at_the_problem(text, at, needle):
    with pytest.raises(ParseError, match=needle) as info:
        space.parse(text)
    err = info.value
    assert err.space == "raw"
    assert err.text == text
    assert text[err.position :].startswith(at), (err.position, text[err.position :])


def test_error_lists_expected_tokens():
    with pytest.raises(ParseError) as info:
        space.parse("Action: press(keys)")
    assert {"w", "space", "left.control"} <= set(info.value.expected)


def test_reserved_tokens_decode():
    t = "<|reserved_special_token_178|><|reserved_special_token_{}|><|reserved_special_token_179|>"
    a = space.parse(
        "<|reserved_special_token_178|><|reserved_special_token_221|><|reserved_special_token_235|><|reserved_special_token_179|>"
    )
    cam = space.canonicalize(a).camera
    assert cam == pytest.approx((0.419, -1.791), abs=1e-3)  # pitch bin 12, yaw bin 5
    a = space.parse(
        "<|reserved_special_token_178|><|reserved_special_token_204|><|reserved_special_token_221|><|reserved_special_token_239|><|reserved_special_token_179|>"
    )
    assert a.buttons == {"attack"}
    assert space.canonicalize(a).camera == pytest.approx((0.419, -0.178), abs=1e-3)
    # later tokens overwrite earlier ones of the same group
    assert space.parse(
        t.format("191").replace(
            "<|reserved_special_token_179|>", "<|reserved_special_token_192|><|reserved_special_token_179|>"
        )
    ).buttons == {"back"}
    # inventory is exclusive and forces a null camera
    inv = "<|reserved_special_token_178|><|reserved_special_token_191|><|reserved_special_token_177|><|reserved_special_token_221|><|reserved_special_token_179|>"
    assert space.canonicalize(space.parse(inv)) == CanonicalAction(buttons={"inventory"})
    # trailing padding that means nothing is tolerated
    assert space.parse(
        "<|reserved_special_token_178|> <|reserved_special_token_179|> <|reserved_special_token_180|>"
    ).is_noop


def test_canonicalize_camera_convention():
    a = space.parse("Action: move(19, -4) and press(w)")
    c = space.canonicalize(a)
    assert c.camera == (-4 * 0.15, 19 * 0.15)  # [pitch, yaw] = [dy, dx] · 0.15; +dx turns right
    assert c.buttons == {"forward"}
    assert space.from_canonical(c) == a


def test_render_is_openha_encoder_order():
    a = RawAction(dx=1, dy=-2, buttons={"sprint", "forward", "use", "attack", "ESC", "hotbar.2", "pickItem"})
    assert (
        space.render(a)
        == "Action: move(1, -2) and press(escape, w, 2, left.control) and click(left) and click(right) and click(middle)"
    )
    assert space.render(RawAction(dx=0.5)) == "Action: move(0.5, 0) and press()"


def test_fast_path_agrees_with_grammar():
    """The canonical-form shortcut must give exactly what the grammar gives."""
    import numpy as np

    from actionspaces.space import _compiled

    lark = _compiled(RawSpace)
    rng = np.random.default_rng(0)
    for _ in range(2000):
        body = space.render_body(space.sample(rng))
        fast = space.fast_parse(body)
        assert fast is None or fast == lark.parse(body), body
    assert space.fast_parse("move(1, 2) and press(w)") is not None
    assert space.fast_parse("move(1, 2) and press(jump)") is None  # unknown key: the grammar reports it


def test_model_validation():
    with pytest.raises(ValueError, match="dx"):
        RawAction(dx=float("nan"))
    with pytest.raises(ValueError, match=r"dy\n.*less than or equal to 1200"):
        RawAction(dy=5000)


def test_non_string_input_is_a_parse_error():
    with pytest.raises(ParseError, match="expected a str"):
        space.parse(None)  # type: ignore[arg-type]


def test_parse_error_pickles_and_renders_a_caret():
    import pickle

    with pytest.raises(ParseError) as info:
        space.parse("Action: move(1, 2) and press(w, jump)")
    err = pickle.loads(pickle.dumps(info.value))
    assert (err.position, err.text, err.space, err.expected) == (
        info.value.position,
        info.value.text,
        "raw",
        info.value.expected,
    )
    assert err.line == 1 and err.column == err.position + 1
    assert str(err).splitlines()[-1] == " " * err.position + "^"


@pytest.mark.parametrize(("quoted", "dx"), [("12", 12.0), ("-1.5", -1.5), (".5", 0.5), ("+2e1", 20.0)])
def test_a_quoted_number_parses_as_the_grammars_number_terminal(quoted: str, dx: float):
    assert RawSpace().parse(f'move("{quoted}", 0) and press()').dx == dx


@pytest.mark.parametrize("quoted", ["nan", "inf", "1e999", "0x10", "1_000", "twelve"])
def test_a_quoted_non_number_is_refused_by_name(quoted: str):
    with pytest.raises(ParseError, match="dx must be a finite number"):
        RawSpace().parse(f'move("{quoted}", 0) and press()')


@pytest.mark.parametrize(
    "text",
    [
        "Action: move(١٢, ０)",
        "Action: move(12, ０)",
        "Action: press(１)",
        "Grounding: Mine <|point_start|>(١,2)<|point_end|>",
        "Motion: switch to hotbar ３",
        "Latent: <|latent_١|>",
        "<raw>camera move ١,2</raw>",
        "<grounding>move_to (５,5)</grounding>",
    ],
)
def test_non_ascii_digits_are_rejected_not_read_as_numbers(text):
    chain = asp.parse(text)
    assert not chain.ok, chain
    error = chain.errors[0]
    assert text[error.position] in "١０１３５" or text[error.position :].startswith("<|latent_"), error


def test_several_hotbar_slots_in_one_tick_follow_minecraft():
    """``press(1, 2)`` holds both keys, as MineRL passes them on; Minecraft selects the highest slot."""
    from actionspaces.envs import CraftWorld

    action = RawSpace().canonicalize(RawSpace().parse("Action: move(0, 0) and press(1, 2)"))
    assert action.buttons == {"hotbar.1", "hotbar.2"}
    env = CraftWorld("mine_block:oak_log")
    env.reset(seed=0)
    env.step(action.to_env())
    assert env.unwrapped.world.player.selected == 1  # slot 2 (0-based 1): the last key of Minecraft's 1..9 loop
    assert asp.VPTTokenizer().decode(*asp.VPTTokenizer().encode(action)).buttons == {"hotbar.2"}
