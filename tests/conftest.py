from pathlib import Path

import pytest

from actionspaces import GroundingSpace, LanguageSpace, LatentSpace, MotionSpace, RawSpace

#: OpenHA's outputs collected from its README, code and prompts (a copy of the project's shared corpus).
CORPUS = Path(__file__).resolve().parent / "data" / "openha_outputs.jsonl"

ALL_SPACES = [RawSpace(), GroundingSpace(), MotionSpace(), LanguageSpace(), LatentSpace(codebook_size=64)]


@pytest.fixture(params=ALL_SPACES, ids=lambda s: s.name)
def space(request):
    return request.param
