from pathlib import Path

import pytest

from actionspaces import GroundingSpace, LanguageSpace, LatentSpace, MotionSpace, RawSpace

#: The shared corpus of OpenHA outputs lives beside the repository, not in it.
CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "openha_outputs.jsonl"

ALL_SPACES = [RawSpace(), GroundingSpace(), MotionSpace(), LanguageSpace(), LatentSpace(codebook_size=64)]


@pytest.fixture(params=ALL_SPACES, ids=lambda s: s.name)
def space(request):
    return request.param
