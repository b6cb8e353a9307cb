"""The fake refuses what the official openai SDK's parameter types refuse (tests/sdk_check.py)."""

from __future__ import annotations

import typing

import pytest
import requests
from openai.types.image_generate_params import ImageGenerateParamsBase

from dalle3.http.client import ImagesClient
from dalle3.models import MODELS
from dalle3.params import validate
from dalle3.settings import Settings
from tests.openapi_spec import validate_create_image_request
from tests.sdk_check import FIELDS, REQUIRED, generate_params_problem

AUTH = {"Authorization": "Bearer sk-test-sdkcheck"}


def test_the_check_is_read_from_the_sdk_types_not_written_by_hand():
    sdk_keys = set(typing.get_type_hints(ImageGenerateParamsBase, include_extras=True))
    assert set(FIELDS) == sdk_keys | {"stream"} and REQUIRED == {"prompt"}
    assert {"complexity", "moderation", "background"} <= set(FIELDS)  # newer than the OpenAPI extract


@pytest.mark.parametrize("body,param,code", [
    ({"prompt": "x", "seed": 7}, "seed", "unknown_parameter"),
    ({"prompt": "x", "quality": "ultra"}, "quality", "invalid_value"),
    ({"prompt": "x", "complexity": "extreme"}, "complexity", "invalid_value"),
    ({"prompt": "x", "n": "1"}, "n", "invalid_type"),
    ({"prompt": "x", "n": True}, "n", "invalid_type"),  # JSON true is not the integer 1
    ({"prompt": "x", "stream": 1}, "stream", "invalid_type"),
    ({"prompt": 5}, "prompt", "invalid_type"),
    ({"model": "gpt-image-2"}, "prompt", "missing_required_parameter"),
    ({"prompt": "x", "svg": {"model": "m", "reasoning": {"effort": "huge"}}}, "svg.reasoning.effort", "invalid_value"),
    ({"prompt": "x", "svg": {"reasoning": None}}, "svg.model", "missing_required_parameter"),
])
def test_a_body_the_sdk_types_refuse_is_caught_with_the_parameter_named(body, param, code):
    problem = generate_params_problem(body)
    assert problem is not None and (problem.param, problem.code) == (param, code)


def test_bodies_the_sdk_types_allow_pass():
    for body in ({"prompt": "x"}, {"prompt": "x", "model": None, "quality": None, "stream": False},
                 {"prompt": "x", "model": "some-future-model", "size": "1536x864", "stream": True},
                 {"prompt": "x", "svg": {"model": "m", "reasoning": {"effort": "low"}}}):
        assert generate_params_problem(body) is None, body


def test_the_fake_answers_400_to_a_body_only_the_sdk_types_refuse(fake_api):
    body = {"model": "gpt-image-2", "prompt": "a fox", "seed": 7}
    validate_create_image_request(body)  # the older OpenAPI extract lets it through ...
    response = requests.post(f"{fake_api.base_url}/images/generations", json=body, headers=AUTH, timeout=5)
    assert response.status_code == 400  # ... the SDK's types do not, and neither does the fake
    assert response.json()["error"] == {"message": "Unknown parameter: 'seed'.", "type": "invalid_request_error",
                                         "param": "seed", "code": "unknown_parameter"}
    assert fake_api.pending == 0 and len(fake_api.requests) == 1


@pytest.mark.parametrize("model", list(MODELS))
def test_every_body_the_app_sends_passes_the_sdk_types(fake_api, model):
    """The app's own request for each model, with every extra set, reaches the fake and is accepted."""
    profile = MODELS[model]
    extras = {name: values[-1] for name, values in profile.extras.items()}
    request = validate("a fox", seed=1, quality=profile.qualities[-1], style=profile.default_style,
                       size=profile.sizes[0], model=model, extras=extras)
    client = ImagesClient(Settings(api_key="sk-test-sdkcheck", base_url=fake_api.base_url, max_retries=0))
    client.generate(request, "sk-test-sdkcheck")
    (seen,) = fake_api.requests
    assert generate_params_problem(seen.json) is None and set(seen.json) >= {"model", "prompt"}
