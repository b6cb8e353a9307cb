"""The model table against the installed ``openai`` SDK: fails when they disagree.

The SDK (pinned in requirements-dev.txt) is OpenAI's newest account of the image
API. Its ``Literal`` types say which values exist at all; its docstrings say which
models take the per-model ones (``xhigh``/``max``, custom sizes, transparent
backgrounds, shutdowns). Both are parsed here from the installed source, so
bumping ``openai`` makes this file name every rule that moved. Where the table
goes beyond the SDK (the 2.6 models, on which it is silent), the rule must carry
its own source marked unconfirmed — those are the listed exceptions.
"""

from __future__ import annotations

import ast
import datetime as dt
import importlib
import inspect
import re
import typing

import pytest

from dalle3.models import lifecycle

from dalle3.models import (COMPRESSION_DEFAULT, COMPRESSION_FORMATS, COMPRESSION_RANGE, MODELS, NOT_DRIVEN,
                           NOT_OFFERED_FORMATS, OUTPUT_FORMATS, TRANSPARENT_FORMATS)
from tests.openapi_spec import sdk_literal_values

GENERATE = "openai.types.image_generate_params"
EDIT = "openai.types.image_edit_params"
IMAGE_MODEL = "openai.types.image_model"
GPT = [p for p in MODELS.values() if p.output_formats]


def field_docs(module: str, cls: str) -> dict[str, str]:
    """``{field: docstring}`` of a TypedDict in the installed SDK (the string after each annotation)."""
    tree = ast.parse(inspect.getsource(importlib.import_module(module)))
    body = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == cls).body
    docs = {}
    for node, after in zip(body, body[1:]):
        if isinstance(node, ast.AnnAssign) and isinstance(after, ast.Expr) and isinstance(after.value, ast.Constant):
            docs[node.target.id] = " ".join(str(after.value.value).split())
    return docs


def module_docs(module: str) -> str:
    """Every string statement of a module (ImageModel's deprecation notes live in one)."""
    tree = ast.parse(inspect.getsource(importlib.import_module(module)))
    return " ".join(" ".join(str(n.value.value).split()) for n in tree.body
                    if isinstance(n, ast.Expr) and isinstance(n.value, ast.Constant))


def models_named(sentence: str) -> set[str]:
    """Model ids in backticks in ``sentence``, plus their snapshots when it says "including their `DATE` snapshots"."""
    ids = set(re.findall(r"`((?:gpt-image|dall-e|chatgpt-image)[\w.-]*)`", sentence))
    for date in re.findall(r"including their `(\d{4}-\d{2}-\d{2})` snapshots", sentence):
        ids |= {f"{m}-{date}" for m in list(ids)}
    return ids


def sentence_with(text: str, phrase: str) -> str:
    found = [s for s in re.split(r"(?<=\.)\s+(?=[A-Z`])", text) if phrase in s]
    assert found, f"the SDK no longer says {phrase!r}: read its docstring again and update the table"
    return found[0]


def unconfirmed_exception(profile, rule: str) -> bool:
    source = profile.rules.get(rule)
    return bool(source and source.confidence == "unconfirmed" and "sdk" not in source.where.split(":")[0].lower())


GEN = field_docs(GENERATE, "ImageGenerateParamsBase")
EDITS = field_docs(EDIT, "ImageEditParamsBase")


def sdk_image_model_ids() -> set[str]:
    """Every id the SDK lists as an image model.

    ``ImageModel``, generate's and edit's ``model``, and the Responses image tool's ``model``.
    """
    ids = set(sdk_literal_values(GENERATE, "ImageGenerateParamsBase", "model"))
    ids |= set(sdk_literal_values(EDIT, "ImageEditParamsBase", "model"))
    ids |= set(sdk_literal_values("openai.types.responses.tool", "ImageGeneration", "model"))
    ids |= set(typing.get_args(importlib.import_module(IMAGE_MODEL).ImageModel))
    return ids


def test_every_table_id_is_an_sdk_image_model_or_has_its_own_source():
    sdk_ids = sdk_image_model_ids()
    for profile in MODELS.values():
        assert profile.id in sdk_ids or profile.rules.get("id"), f"{profile.id} is not in the SDK's ImageModel"


def test_every_sdk_image_model_is_in_the_table_or_named_as_not_driven():
    sdk_ids = sdk_image_model_ids()
    assert {"chatgpt-image-latest", "dall-e-2", "gpt-image-2"} <= sdk_ids  # the lists were read at all
    missing = sdk_ids - set(MODELS) - set(NOT_DRIVEN)
    assert not missing, f"the SDK names image models the table lacks: {sorted(missing)}"
    assert all(NOT_DRIVEN[m] for m in NOT_DRIVEN) and not set(NOT_DRIVEN) & set(MODELS)


def test_models_the_sdk_calls_shut_down_are_retired_with_that_date():
    text = module_docs(IMAGE_MODEL) + " " + GEN["model"]
    notes = re.findall(r'((?:"[\w.-]+",?\s*)+): [^.]*?(?:shut down|retired) on (\w+ \d{1,2}, \d{4})', text)
    assert notes, "the SDK's deprecation notes changed shape"
    for ids, when in notes:
        date = dt.datetime.strptime(when, "%B %d, %Y").date()
        for model_id in re.findall(r'"([\w.-]+)"', ids):
            if model_id in MODELS:
                assert MODELS[model_id].shutdown == date.isoformat(), model_id
                assert lifecycle.status(MODELS[model_id], today=date) == lifecycle.RETIRED, model_id


def test_qualities_are_sdk_values_and_xhigh_max_only_where_documented():
    allowed = set(sdk_literal_values(GENERATE, "ImageGenerateParamsBase", "quality"))
    documented = models_named(sentence_with(GEN["quality"], "also support `xhigh` and `max`"))
    for profile in MODELS.values():
        assert set(profile.qualities) <= allowed, profile.id
        has_extra = {"xhigh", "max"} <= set(profile.qualities)
        if profile.id in documented:
            assert has_extra, f"the SDK documents xhigh/max for {profile.id}; the table lacks them"
        elif has_extra:
            assert unconfirmed_exception(profile, "qualities"), f"{profile.id}: xhigh/max without a source"


def test_custom_sizes_match_the_sdk_size_rules():
    text = GEN["size"]
    documented = models_named(sentence_with(text, "arbitrary resolutions are supported"))
    multiple = int(re.search(r"divisible by (\d+)", text).group(1))
    ratio = re.search(r"between 1:(\d+) and (\d+):1", text)
    experimental = re.search(r"above `(\d+)x(\d+)` are experimental", text)
    maximum = re.search(r"maximum supported resolution is `(\d+)x(\d+)`", text)
    presets = set(re.findall(r"`(\d+x\d+)`", sentence_with(text, "standard sizes")))
    size_literal = set(sdk_literal_values(GENERATE, "ImageGenerateParamsBase", "size"))
    for profile in MODELS.values():
        assert set(profile.sizes) <= size_literal, profile.id
        rule = profile.custom_size
        if profile.output_formats:  # GPT Image: presets are the SDK's standard sizes, plus auto
            assert set(profile.sizes) - {"auto"} <= presets, profile.id
        if profile.id in documented:
            assert rule is not None, f"the SDK documents WIDTHxHEIGHT for {profile.id}"
        elif rule is not None:
            assert unconfirmed_exception(profile, "custom_size"), f"{profile.id}: custom sizes without a source"
        if rule is not None:
            assert rule.multiple == multiple and rule.max_ratio == int(ratio.group(1)) == int(ratio.group(2))
            assert rule.experimental_above == int(experimental.group(1)) * int(experimental.group(2))
            assert rule.max_edge == int(maximum.group(1)) and rule.max_pixels == int(maximum.group(1)) * int(
                maximum.group(2))


def test_backgrounds_and_transparency_follow_the_sdk():
    text = GEN["background"]
    allowed = set(sdk_literal_values(GENERATE, "ImageGenerateParamsBase", "background"))
    supported = models_named(sentence_with(text, "support `opaque` and `transparent`"))
    preview = models_named(sentence_with(text, "this support is in preview"))
    formats = set(re.findall(r"`(\w+)`", sentence_with(text, "When using `transparent`")))
    assert set(TRANSPARENT_FORMATS) == formats - {"transparent"}
    for profile in MODELS.values():
        values = profile.extras.get("background", ())
        assert set(values) <= allowed, profile.id
        in_preview = "transparent" in profile.preview.get("background", ())
        assert in_preview == (profile.id in preview), f"{profile.id}: preview flag differs from the SDK"
        if "transparent" in values and profile.id not in supported | preview and profile.family != "gpt-image-1":
            assert unconfirmed_exception(profile, "background"), f"{profile.id}: transparent without a source"


def test_output_formats_compression_and_n_follow_the_sdk():
    literal = set(sdk_literal_values(GENERATE, "ImageGenerateParamsBase", "output_format"))
    assert set(OUTPUT_FORMATS) | set(NOT_OFFERED_FORMATS) == literal, \
        "a format the SDK lists is neither offered nor explained"
    compression = GEN["output_compression"]
    assert re.search(r"\((\d+)-(\d+)%\)", compression).groups() == tuple(map(str, COMPRESSION_RANGE))
    assert set(re.findall(r"`(\w+)`", sentence_with(compression, "output formats"))) == set(COMPRESSION_FORMATS)
    assert f"defaults to {COMPRESSION_DEFAULT}" in compression
    low, high = map(int, re.search(r"between (\d+) and (\d+)", GEN["n"]).groups())
    assert low == 1
    for profile in GPT:
        assert set(profile.output_formats) <= literal and profile.max_images == high, profile.id
    assert MODELS["dall-e-3"].max_images == 1 and not MODELS["dall-e-3"].output_formats


def test_safety_identifier_is_an_sdk_parameter_for_every_gpt_model():
    assert "safety_identifier" in GEN and "safety_identifier" in EDITS
    assert all(p.safety_identifier for p in GPT)


def test_edit_flags_follow_the_sdk_edit_docstrings():
    fidelity = EDITS["input_fidelity"]
    both = re.search(r"Supports `(\w+)` and `(\w+)` on `([\w.-]+)`", fidelity)
    only = re.search(r"`([\w.-]+)` supports only `(\w+)`", fidelity)
    omit = re.search(r"For `([\w.-]+)`, omit this parameter", fidelity)
    assert set(MODELS[both.group(3)].input_fidelity) == {both.group(1), both.group(2)}
    assert MODELS[only.group(1)].input_fidelity == (only.group(2),)
    assert MODELS[omit.group(1)].input_fidelity == ()
    version = re.search(r"Supports GPT Image (\d+(?:\.\d+)?)", EDITS["markup"]).group(1)
    for profile in MODELS.values():
        documented = profile.id.startswith(f"gpt-image-{version}-")
        if documented:
            assert profile.markup, profile.id
        elif profile.markup:
            assert unconfirmed_exception(profile, "markup"), f"{profile.id}: markup without a source"


@pytest.mark.parametrize("rule", ["qualities", "custom_size", "background", "markup"])
def test_every_26_rule_beyond_the_sdk_names_its_source_and_is_unconfirmed(rule):
    for model_id in ("gpt-image-2.6-sunburst", "gpt-image-2.6-flare"):
        source = MODELS[model_id].rules[rule]
        assert source.confidence == "unconfirmed" and source.where


def test_every_extra_setting_is_an_sdk_parameter_with_those_values():
    for profile in MODELS.values():
        for name, values in profile.extras.items():
            assert name in GEN, f"{profile.id}: {name} is not a parameter in the SDK"
            allowed = set(sdk_literal_values(GENERATE, "ImageGenerateParamsBase", name))
            assert set(values) <= allowed and profile.extra_defaults[name] in allowed, (profile.id, name)
