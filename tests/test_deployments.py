"""Deployments with their own names: Azure OpenAI's v1 API and a gateway, end to end against the fake."""

from __future__ import annotations

import io
from dataclasses import replace
from pathlib import Path

import pytest
from PIL import Image

from dalle3 import Studio
from dalle3.views import studio_view
from dalle3.models import pricing
from dalle3.http.client import ImagesClient
from dalle3.http.deployments import Deployment, auth_headers, endpoint_url, is_azure
from dalle3.http.discovery import Discovery
from dalle3.edits.inputs import prepare_edit
from dalle3.models.text import models_text
from dalle3.errors import ConfigurationError, ValidationError
from dalle3.models import resolve, use_deployments
from dalle3.params import validate
from dalle3.settings import Settings, from_env
from dalle3.views.snippets import curl_snippet
from tests.apphelpers import SERVER_KEY, app_settings, running_app

AZURE_DEPLOY = Deployment("my-image-deploy", "gpt-image-2")
GATEWAY = Deployment("openai/gpt-image-2", "gpt-image-2")


def png(size=(64, 48)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (20, 120, 200)).save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.fixture(autouse=True)
def forget_deployments():
    """Deployment names are registered process-wide at start: leave none behind for other modules."""
    yield
    use_deployments({})


@pytest.fixture
def azure(fake_api):
    """The fake as Azure OpenAI's v1 API: under /openai/v1, the key in ``api-key``, one deployment."""
    fake_api.azure = True
    fake_api.deployments = {AZURE_DEPLOY.name: AZURE_DEPLOY.model}
    return fake_api


def azure_settings(fake, tmp_path: Path, query: str = "?api-version=preview") -> Settings:
    return app_settings(fake.azure_base_url + query, tmp_path, deployments=(AZURE_DEPLOY,),
                        default_model=AZURE_DEPLOY.name)


@pytest.mark.parametrize("raw,message", [
    ("my-image-deploy", "is not NAME=MODEL"),
    ("my-image-deploy=gpt-9", "which is not a model in the table"),
    ("bad name=gpt-image-2", "is not a deployment name"),
    ("a//b=gpt-image-2", "is not a deployment name"),
    ("x=gpt-image-2,x=dall-e-3", "names x twice"),
    ("gpt-image-2=dall-e-3", "is a model of its own"),
])
def test_a_bad_DALLE3_DEPLOYMENTS_stops_start_up_naming_the_variable(raw, message):
    with pytest.raises(ConfigurationError, match="DALLE3_DEPLOYMENTS") as refused:
        from_env({"DALLE3_DEPLOYMENTS": raw})
    assert message in refused.value.user_message


def test_deployments_parse_and_may_be_the_starting_model():
    settings = from_env({"DALLE3_DEPLOYMENTS": " my-image-deploy=gpt-image-2 , openai/gpt-image-2=gpt-image-2 ",
                         "DALLE3_MODEL": "openai/gpt-image-2",
                         "OPENAI_BASE_URL": "https://res.openai.azure.com/openai/v1?api-version=preview"})
    assert settings.deployments == (AZURE_DEPLOY, GATEWAY) and settings.default_model == GATEWAY.name
    assert settings.base_url_shown == "https://res.openai.azure.com/openai/v1"  # the query is never shown
    with pytest.raises(ConfigurationError, match="DALLE3_MODEL='other-deploy' is not a known model or deployment"):
        from_env({"DALLE3_MODEL": "other-deploy"})
    with pytest.raises(ConfigurationError, match="fragment"):
        from_env({"OPENAI_BASE_URL": "https://res.openai.azure.com/openai/v1#x"})


def test_a_query_on_the_base_url_is_kept_for_requests_but_never_shown():
    settings = from_env({"OPENAI_BASE_URL": "https://api.example.com/v1?api_key=SECRET99", "OPENAI_API_KEY": "sk-x"})
    assert endpoint_url(settings.base_url, "/images/generations").endswith("/v1/images/generations?api_key=SECRET99")
    assert "SECRET99" not in settings.base_url_shown and "SECRET99" not in studio_view.banner_text(settings)


def test_azure_is_told_apart_and_gets_its_key_header_and_the_query_on_every_url():
    assert is_azure("https://res.openai.azure.com/openai/v1") and is_azure("http://127.0.0.1:9/openai/v1")
    assert is_azure("https://proj.services.ai.azure.com/openai/v1") and not is_azure("https://api.openai.com/v1")
    assert auth_headers("https://res.openai.azure.com/openai/v1", "k") == {"api-key": "k"}
    assert auth_headers("http://gateway:4000/v1", "k") == {"Authorization": "Bearer k"}
    assert endpoint_url("https://r.openai.azure.com/openai/v1/?api-version=preview", "/models") == \
        "https://r.openai.azure.com/openai/v1/models?api-version=preview"


def test_a_deployment_takes_its_models_rules_and_prices_and_keeps_its_name(tmp_path):
    Studio(Settings(output_dir=tmp_path, deployments=(AZURE_DEPLOY,)))
    request = validate("a fox", seed=1, quality="high", size="1536x864", model=AZURE_DEPLOY.name)
    assert request.model == "my-image-deploy"
    assert pricing.estimate(resolve("my-image-deploy"), "high", "1536x864") == \
        pricing.estimate(resolve("gpt-image-2"), "high", "1536x864")
    with pytest.raises(ValidationError, match="Quality 'hd' is not available for my-image-deploy"):
        validate("a fox", seed=1, quality="hd", size="1024x1024", model=AZURE_DEPLOY.name)
    labels = dict((v, k) for k, v in studio_view.model_choices({"gpt-image-2": {"id": "gpt-image-2"}}))
    assert labels["my-image-deploy"] == "my-image-deploy — a deployment of gpt-image-2: its rules and prices"
    listed = models_text({"gpt-image-2": {"id": "gpt-image-2"}}, "https://res.openai.azure.com/openai/v1")
    assert "  my-image-deploy → gpt-image-2 (its rules and prices) · not in the listing" in listed


def test_azure_v1_generates_with_previews_and_edits_under_the_deployment_name(azure, tmp_path):
    settings = azure_settings(azure, tmp_path)
    Studio(settings)  # the deployment names resolve from here on
    client = ImagesClient(settings)
    request = validate("a fox", seed=1, quality="low", size="1024x1024", model=AZURE_DEPLOY.name)
    partials = []
    image = client.generate(request, SERVER_KEY, previews=1, on_partial=partials.append)
    assert image.pngs and partials  # the stream answered with a preview, then the image
    seen = azure.requests[-1]
    assert seen.path == "/openai/v1/images/generations" and seen.json["model"] == "my-image-deploy"
    assert seen.headers["api-key"] == SERVER_KEY and "authorization" not in seen.headers
    inputs = prepare_edit(resolve(AZURE_DEPLOY.name), [png()])
    edited = client.edit(replace(request, prompt="make it blue"), inputs, SERVER_KEY)
    assert edited.pngs
    form = azure.edit_requests[-1]
    assert form.path == "/openai/v1/images/edits" and form.form["model"] == "my-image-deploy"
    assert form.headers["api-key"] == SERVER_KEY


def test_azure_discovery_lists_its_models_and_the_deployment_stays_on_the_page(azure, tmp_path):
    settings = azure_settings(azure, tmp_path)
    listing = Discovery(ImagesClient(settings)).listing(SERVER_KEY)
    assert listing.problem is None and "gpt-image-2" in listing.offered
    assert azure.model_requests[-1].path == "/openai/v1/models"
    Studio(settings)
    assert studio_view.start_model(AZURE_DEPLOY.name, listing.offered) == (AZURE_DEPLOY.name, None)
    label = dict((v, k) for k, v in studio_view.model_choices(listing.offered))[AZURE_DEPLOY.name]
    assert "not offered" not in label


def test_the_page_api_shows_the_deployment_with_its_model(azure, tmp_path):
    with running_app(azure_settings(azure, tmp_path)) as handle:
        _, status, facts = handle.predict_once(prompt="a lighthouse", quality="low")
    assert azure.requests[-1].json["model"] == "my-image-deploy"
    assert (facts["model"], facts["deployment_of"]) == ("my-image-deploy", "gpt-image-2")
    assert "my-image-deploy (gpt-image-2)" in status


def test_a_gateway_name_is_listed_offered_and_sent_with_a_bearer_key(fake_api, tmp_path):
    fake_api.deployments = {GATEWAY.name: GATEWAY.model}
    fake_api.models = [*fake_api.models, {"id": GATEWAY.name, "object": "model", "created": 1, "owned_by": "gw"}]
    settings = app_settings(fake_api.base_url, tmp_path, deployments=(GATEWAY,))
    Studio(settings)
    client = ImagesClient(settings)
    listing = Discovery(client).listing(SERVER_KEY)
    assert GATEWAY.name in listing.offered
    client.generate(validate("a fox", seed=1, quality="medium", size="1536x864", model=GATEWAY.name), SERVER_KEY)
    seen = fake_api.requests[-1]
    assert seen.json["model"] == "openai/gpt-image-2" and seen.headers["authorization"] == f"Bearer {SERVER_KEY}"


def test_the_curl_snippet_for_azure_carries_the_api_key_header():
    request = validate("a fox", seed=1, quality="low", size="1024x1024", model="gpt-image-2")
    azure = curl_snippet(request, "https://res.openai.azure.com/openai/v1?api-version=preview")
    assert '-H "api-key: $OPENAI_API_KEY"' in azure and "Authorization" not in azure
    assert "curl -sS https://res.openai.azure.com/openai/v1/images/generations \\" in azure
    assert '-H "Authorization: Bearer $OPENAI_API_KEY"' in curl_snippet(request)
