import math

import pytest

from actionspaces import ViewState


def test_defaults_are_minestudio_geometry():
    s = ViewState()
    assert (s.width, s.height, s.fov_deg, s.gui_open) == (640, 360, 70.0, False)
    assert s.cursor_px == (320.0, 180.0)  # Minecraft centres the cursor when a GUI opens
    assert s.focal_px == pytest.approx(180 / math.tan(math.radians(35)))


@pytest.mark.parametrize(
    ("kwargs", "needle"),
    [
        ({"cursor": (700.0, 10.0)}, "outside"),
        ({"cursor": (float("nan"), 10.0)}, "finite"),
        ({"width": 0}, "width"),
        ({"fov_deg": 180.0}, "fov_deg"),
        ({"zoom": 2}, "zoom"),
    ],
)
def test_invalid_states_are_rejected(kwargs, needle):
    with pytest.raises(ValueError, match=needle):
        ViewState(**kwargs)
