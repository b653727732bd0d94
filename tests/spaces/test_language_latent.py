import pytest

from actionspaces import (
    CanonicalAction,
    CanonicalizeError,
    LanguageAction,
    LanguageSpace,
    LatentAction,
    LatentSpace,
    ParseError,
)


def test_language_parses_one_line():
    space = LanguageSpace()
    assert space.parse("Skill: chop the oak tree  ").text == "chop the oak tree"
    assert space.parse("skill：mine, then craft").text == "mine, then craft"
    with pytest.raises(ParseError, match="empty language"):
        space.parse("Skill:   ")
    with pytest.raises(ParseError, match="unexpected") as info:
        space.parse("Skill: one\ntwo")
    assert info.value.position == len("Skill: one")
    with pytest.raises(ValueError, match="one stripped"):
        LanguageAction(text="two\nlines")


def test_language_canonicalize_needs_a_resolver():
    action = LanguageAction(text="chop the tree")
    with pytest.raises(CanonicalizeError, match="resolver"):
        LanguageSpace().canonicalize(action)
    resolver_calls = []

    def resolver(a, state):
        resolver_calls.append(a.text)
        return CanonicalAction(buttons={"attack"})

    assert LanguageSpace(resolver).canonicalize(action) == CanonicalAction(buttons={"attack"})
    assert resolver_calls == ["chop the tree"]


def test_latent_parameters():
    space = LatentSpace(codebook_size=512, num_codes=2)
    assert space.parse("Latent: <|latent_12|> <|latent_407|>").codes == (12, 407)
    assert space.parse("<|latent_007|><|latent_1|>").codes == (7, 1)
    with pytest.raises(ParseError, match="outside the codebook") as info:
        space.parse("Latent: <|latent_1|><|latent_512|>")
    assert info.value.position == len("Latent: <|latent_1|>")
    with pytest.raises(ParseError, match="exactly 2"):
        space.parse("Latent: <|latent_1|>")
    with pytest.raises(ParseError, match="exactly 2") as info:
        space.parse("Latent: <|latent_1|><|latent_2|><|latent_3|>")
    assert info.value.position == len("Latent: <|latent_1|><|latent_2|>")
    with pytest.raises(ParseError, match="max_codes"):
        LatentSpace(max_codes=2).parse("<|latent_1|><|latent_2|><|latent_3|>")
    with pytest.raises(ParseError, match="unexpected"):
        space.parse("Latent: 12 407")
    assert not space.contains(LatentAction(codes=(1, 600)))
    assert not space.contains(LatentAction(codes=(1,)))
    with pytest.raises(ValueError, match="codebook_size"):
        LatentSpace(codebook_size=0)


class _Decoder:
    def decode(self, codes):
        return [CanonicalAction(buttons={"forward"}), CanonicalAction()] * len(codes)


def test_latent_canonicalize_uses_decoder_first_tick():
    action = LatentAction(codes=(3,))
    with pytest.raises(CanonicalizeError, match="decoder"):
        LatentSpace().canonicalize(action)
    assert LatentSpace(decoder=_Decoder()).canonicalize(action).buttons == {"forward"}
