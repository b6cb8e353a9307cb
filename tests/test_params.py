"""Validation: every refusal happens before the network and says what to do."""

import pytest

from dalle3.errors import ValidationError
from dalle3.models import MODELS
from dalle3.params import SEED_MAX, request_body, validate, profile_for


def test_defaults_match_the_node():
    request = validate("a fox")
    assert (request.seed, request.quality, request.style, request.size, request.model) == (
        0, "standard", "natural", "1024x1024", "dall-e-3")


@pytest.mark.parametrize("prompt", ["", "   ", "\n\t ", None, 42])
def test_blank_or_non_text_prompt_is_refused(prompt):
    with pytest.raises(ValidationError, match="Write a prompt"):
        validate(prompt)


def test_prompt_over_4000_characters_says_how_many():
    with pytest.raises(ValidationError) as info:
        validate("x" * 4001)
    assert "4,001 characters" in info.value.user_message
    assert "at most 4,000" in info.value.user_message
    assert validate("x" * 4000).prompt == "x" * 4000


@pytest.mark.parametrize("seed", [-1, SEED_MAX + 1, 1.5, "abc", None, True, [1]])
def test_seed_outside_range_or_not_integer_is_refused(seed):
    with pytest.raises(ValidationError, match="0 to 2147483647"):
        validate("a fox", seed=seed)


@pytest.mark.parametrize("seed,expected", [(0, 0), (SEED_MAX, SEED_MAX), (7.0, 7), ("12", 12)])
def test_whole_number_seeds_are_accepted(seed, expected):
    assert validate("a fox", seed=seed).seed == expected


@pytest.mark.parametrize("field,value,allowed", [
    ("quality", "ultra", "standard, hd"),
    ("style", "cartoon", "natural, vivid"),
    ("size", "512x512", "1024x1024, 1024x1792, 1792x1024"),
])
def test_values_outside_their_set_list_the_allowed_values(field, value, allowed):
    with pytest.raises(ValidationError) as info:
        validate("a fox", **{field: value})
    assert allowed in info.value.user_message


def test_dalle3_body_has_exactly_the_documented_fields_and_no_seed():
    request = validate("a fox", seed=99, quality="hd", style="vivid", size="1792x1024")
    body = request_body(request, profile_for(request.model))
    assert body == {"model": "dall-e-3", "prompt": "a fox", "n": 1, "size": "1792x1024",
                    "quality": "hd", "style": "vivid", "response_format": "b64_json"}


def test_gpt_image_body_sends_no_style_or_response_format_and_explicit_defaults():
    request = validate("a fox", quality="high", style="vivid", size="1536x864", model="gpt-image-2")
    body = request_body(request, profile_for(request.model))
    assert "style" not in body and "response_format" not in body and "seed" not in body
    assert body == {"model": "gpt-image-2", "prompt": "a fox", "n": 1, "size": "1536x864", "quality": "high",
                    "output_format": "png", "background": "auto", "moderation": "auto"}


def test_dalle3_quality_for_gpt_image_is_refused_with_the_nearest_value_named():
    with pytest.raises(ValidationError, match="closest to high"):
        validate("a fox", quality="hd", model="gpt-image-2")


def test_extra_parameter_on_a_model_without_it_is_refused():
    with pytest.raises(ValidationError, match="not a setting of dall-e-3"):
        validate("a fox", model="dall-e-3", extras={"background": "transparent"})
    with pytest.raises(ValidationError, match="not a setting of gpt-image-2"):
        validate("a fox", quality="low", model="gpt-image-2", extras={"complexity": "low"})


def test_complexity_is_sent_for_26_models_with_openai_default():
    request = validate("a fox", quality="low", model="gpt-image-2.6-flare")
    assert request.options["complexity"] == "high"
    assert validate("a fox", quality="low", model="gpt-image-2.6-flare",
                    extras={"complexity": "low"}).options["complexity"] == "low"


def test_gpt_image_prompt_limit_is_32000():
    assert len(validate("y" * 32000, quality="low", model="gpt-image-2").prompt) == 32000
    with pytest.raises(ValidationError, match="32,000"):
        validate("y" * 32001, quality="low", model="gpt-image-2")


def test_unknown_model_is_refused_with_the_known_ones():
    with pytest.raises(ValidationError) as info:
        validate("a fox", model="midjourney")
    assert all(m in info.value.user_message for m in MODELS)


def test_requests_are_hashable_cache_keys_that_include_the_seed():
    assert validate("a fox", seed=1) == validate("a fox", seed=1)
    assert hash(validate("a fox", seed=1)) != hash(validate("a fox", seed=2))
