"""scripts/check_dist.py catches what a broken package would lack (the real build runs in `make check-dist`)."""

import importlib.util
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
spec = importlib.util.spec_from_file_location("check_dist", ROOT / "scripts" / "check_dist.py")
check_dist = importlib.util.module_from_spec(spec)
spec.loader.exec_module(check_dist)

GOOD_METADATA = """Metadata-Version: 2.4
Name: actionspaces
Version: 9.9.9
Author: The actionspaces authors
License-Expression: Apache-2.0
Requires-Python: >=3.10
Classifier: Programming Language :: Python :: 3.10
Classifier: Programming Language :: Python :: 3.11
Classifier: Programming Language :: Python :: 3.12
Classifier: Programming Language :: Python :: 3.13
Requires-Dist: lark<2,>=1.1.9
Requires-Dist: torch<3,>=2.4; extra == 'train'
"""


def wheel(tmp_path, metadata=GOOD_METADATA, leave_out=()):
    info = "actionspaces-9.9.9.dist-info"
    files = {f"actionspaces/grammars/{g}.lark": "" for g in check_dist.GRAMMARS}
    files |= {"actionspaces/py.typed": "", "actionspaces/envs/craftworld/data/minecraft-1.16.5.json": "{}"}
    files |= {f"{info}/licenses/LICENSE": "Apache", f"{info}/METADATA": metadata}
    files[f"{info}/entry_points.txt"] = "[console_scripts]\nactionspaces = actionspaces.cli:main\n"
    path = tmp_path / "actionspaces-9.9.9-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as archive:
        for name, text in files.items():
            if name not in leave_out:
                archive.writestr(name, text)
    return path


def test_a_complete_wheel_passes(tmp_path):
    problems = []
    check_dist.check_wheel(wheel(tmp_path), "9.9.9", problems)
    assert problems == []


def test_missing_files_and_bad_metadata_are_listed(tmp_path):
    problems = []
    bad = GOOD_METADATA.replace("Version: 9.9.9", "Version: 1.0").replace(
        "torch<3,>=2.4; extra == 'train'", "torch==2.13.0"
    )
    bad = bad.replace("Classifier: Programming Language :: Python :: 3.13\n", "")
    check_dist.check_wheel(wheel(tmp_path, bad, leave_out=("actionspaces/py.typed",)), "9.9.9", problems)
    assert "wheel lacks actionspaces/py.typed" in problems
    assert "METADATA Version is '1.0', not '9.9.9'" in problems
    assert "no classifier for Python 3.13" in problems
    assert "torch is a core dependency: torch==2.13.0" in problems
