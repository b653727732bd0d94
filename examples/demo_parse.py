"""Parse a few CrossHA-style responses and execute them as MineRL env actions.

    python examples/demo_parse.py

Each response is split into levels, every level is parsed by its space, the executable level is turned
into the env action it performs on the next tick (the paper's g), and errors are shown where they are.
This is the project's main job until the reference trainer exists.
"""

from __future__ import annotations

import actionspaces as asp
from actionspaces.compat import openha_decode_raw

RESPONSES = [
    # Chain of Action: a grounding level over the raw action that is executed
    "<|im_start|>assistant\nGrounding: Mine <|object_ref_start|>oak log<|object_ref_end|>"
    "<|point_start|>(512,300)<|point_end|>\n, Action: move(19, 0) and press() and click(left)<|im_end|>",
    # motion only: executed by its fixed-magnitude primitive
    "Motion: move forward, sprint, turn left and up, attack / mine",
    # grounding only, in an open GUI: the cursor moves towards the slot
    "Grounding: move to <|object_ref_start|>empty slot<|object_ref_end|><|point_start|>(881,558)<|point_end|>",
    # OpenHA's README format, which its own parser turns into a no-op
    "Action: move(dx='4.0', dy='-1.0') and keyDown(keys=(keyboard.left.control, keyboard.w))",
    # a prompt template copied by the model: rejected at the placeholder
    "Motion: turn left\nAction: move('dx', 'dy')",
]

STATES = {2: asp.ViewState(gui_open=True)}


def show_env(action: asp.CanonicalAction) -> str:
    env = action.to_env()
    assert asp.CanonicalAction.space().contains(env)  # a valid MineRL 1.0 action dict
    keys = [k for k, v in env.items() if k != "camera" and v]
    pitch, yaw = action.camera
    return f"buttons={keys or '[]'} camera=[pitch {pitch:+.3f}°, yaw {yaw:+.3f}°]"


def main() -> None:
    chain_space = asp.ChainSpace()
    for i, text in enumerate(RESPONSES):
        print(f"\n── response {i + 1} " + "─" * 60)
        print(text)
        chain = chain_space.parse(text)
        for level in chain.levels:
            mark = "ok " if level.ok else "ERR"
            what = chain_space.spaces[level.space].render(level.action) if level.action else level.error.message
            print(f"  [{mark}] {level.space:9s} {what}")
        for err in chain.errors:
            print("  " + str(err).replace("\n", "\n  "))
        executable = chain.executable
        if executable is None or not executable.ok:
            print("  → nothing executed: the executable level did not parse")
            continue
        env_action = chain_space.canonicalize(chain, STATES.get(i))
        print(f"  → executes the {executable.space} level: {show_env(env_action)}")
        if executable.space == "raw":
            ref = asp.CanonicalAction.from_env(openha_decode_raw(text))
            same = asp.equivalent(env_action, ref)
            print(f"    OpenHA's reference parser: {show_env(ref)}{'' if same else '   ← differs'}")


if __name__ == "__main__":
    main()
