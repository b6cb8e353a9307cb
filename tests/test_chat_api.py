"""``/chat`` over HTTP (gradio_client) and as an MCP tool: a turn in, the answer, the image and the id out."""

from __future__ import annotations

import base64
import json

import pytest
from gradio_client import handle_file
from gradio_client.exceptions import AppError

from dalle3.files.metadata import read_parameters
from tests.fake_openai import responses as fake_responses
from tests.apphelpers import SERVER_KEY, app_settings, running_app
from tests.fake_openai import render_image
from tests.test_mcp import call_tool, mcp_url  # noqa: F401 - the fixture, shared


@pytest.fixture(scope="module")
def served(fake, tmp_path_factory):
    with running_app(app_settings(fake.base_url, tmp_path_factory.mktemp("chat-api")), sleep=lambda s: None) as h:
        yield h


def test_a_turn_in_the_answer_and_image_out_and_the_id_continues(served, client, fake, tmp_path):
    path, answer, facts = client.predict(text="a fox in snow", image_model="gpt-image-2", quality="low",
                                         api_name="/chat")
    assert answer == "Here is your image: a fox in snow"
    assert read_parameters(path)["conversation"] == facts["conversation"] and facts["turn"] == 1
    assert facts["cost_exact"] is False and facts["cost_usd"] > 0  # the fake lists gpt-5: unpriced, so ≈
    path2, answer2, facts2 = client.predict(text="why a fox?", conversation=facts["conversation"],
                                            api_name="/chat")
    assert path2 is None and answer2 == "You asked: why a fox?" and facts2["parent"] == 1
    sent = [r.json for r in fake_responses.state(fake).requests]
    assert sent[1]["previous_response_id"] == facts["response_id"]
    assert sent[1]["tools"][0]["quality"] == "low"  # the conversation keeps its settings
    assert "stream" not in sent[0]  # an API caller sees no previews: the plain call
    photo = tmp_path / "photo.png"
    photo.write_bytes(render_image(64, 48, "png"))
    _, _, facts3 = client.predict(text="make it a watercolour", conversation=facts["conversation"], from_turn="1",
                                  images=[handle_file(str(photo))], api_name="/chat")
    assert facts3["parent"] == 1 and facts3["turn"] == 3
    parts = fake_responses.state(fake).requests[-1].json["input"][0]["content"]
    assert [p["type"] for p in parts] == ["input_text", "input_image"]
    assert SERVER_KEY not in json.dumps(facts3)


def test_an_unknown_conversation_or_bad_turn_is_a_plain_error(served, client):
    with pytest.raises(AppError, match="No such conversation"):
        client.predict(text="hello", conversation="AAAAAAAAAAAAAAAA", api_name="/chat")
    with pytest.raises(AppError, match="not a conversation id"):
        client.predict(text="hello", conversation="../../x", api_name="/chat")
    with pytest.raises(AppError, match="turn number"):
        client.predict(text="hello", from_turn="½", api_name="/chat")


def test_an_agent_continues_a_conversation_over_mcp(mcp_url):  # noqa: F811 - the fixture
    failed, content = call_tool(mcp_url, "chat", {"text": "a lighthouse", "image_model": "gpt-image-2"})
    assert not failed, content
    facts = json.loads(next(c.text for c in content if c.type == "text"))
    image = next(c for c in content if c.type == "image")
    assert read_parameters(base64.b64decode(image.data))["turn"] == 1
    failed, content = call_tool(mcp_url, "chat", {"text": "now at night", "conversation": facts["conversation"]})
    assert not failed, content
    again = json.loads(next(c.text for c in content if c.type == "text"))
    assert (again["conversation"], again["turn"], again["parent"]) == (facts["conversation"], 2, 1)
    assert "offline simulator" in again["answer"]


def test_a_call_with_the_wrong_number_of_inputs_is_answered_with_a_sentence(served):
    import requests

    from ui.chat_api import ARGUMENTS

    answer = requests.post(f"{served.url}gradio_api/call/chat", json={"data": ["a fox", ""]}, timeout=30)
    assert answer.status_code == 422
    assert f"takes exactly {len(ARGUMENTS)} inputs in this order: text, conversation" in answer.text
