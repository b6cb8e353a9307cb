"""Conversations through POST /responses against the loopback fake: turns, branches, previews, bills, failures."""

from __future__ import annotations

import json
from pathlib import Path

import openai
import pytest

from dalle3 import Settings, Studio, errors
from dalle3.chat import request
from dalle3.chat.client import EndpointUnsuitable
from dalle3.chat.request import ToolSettings, check_turn
from dalle3.chat.store import ConversationStore, owner_for
from dalle3.chat.turn import Chat, TurnAsk
from dalle3.library import Library
from dalle3.library.query import LibraryQuery
from dalle3.files.metadata import read_parameters
from dalle3.settings import from_env
from tests.fake_openai import responses as fake_responses
from tests.fake_openai import FakeOpenAI, Outcome, render_image
from tests.sdk_check import responses_params_problem

KEY = "sk-test-SECRET-chat-1234567890"
LOW = ToolSettings(image_model="gpt-image-2", quality="low", size="1024x1024", partial_images=2)


def make_chat(fake: FakeOpenAI, out: Path, cap: float | None = 5.0, library: bool = False, **kw) -> Chat:
    settings = Settings(api_key=KEY, base_url=fake.base_url, timeout_s=kw.pop("timeout_s", 5.0),
                        connect_timeout_s=1.0, output_dir=out, max_spend_usd=cap, **kw)
    studio = Studio(settings, library=Library(out) if library else None)
    chat = Chat(studio)
    chat.client._sleep = lambda s: None
    return chat


def ask(conversation, text: str, settings: ToolSettings = LOW, **kw) -> TurnAsk:
    return TurnAsk(conversation_id=conversation.id, owner=conversation.owner, text=text, settings=settings, **kw)


def bodies(fake: FakeOpenAI) -> list[dict]:
    return [r.json for r in fake_responses.state(fake).requests]


# --------------------------------------------------------------------------- the request


def test_the_body_is_what_the_sdk_allows_with_the_studios_own_image_settings():
    turn = check_turn(chat_model="gpt-5.4-mini", text="a fox", settings=ToolSettings(
        image_model="gpt-image-2.5-flare", quality="xhigh", size="1536x864", background="opaque",
        output_format="webp", output_compression=80, action="generate", partial_images=3))
    body = request.body(turn, streaming=True)
    assert responses_params_problem(body) is None
    assert body["tools"] == [{"type": "image_generation", "model": "gpt-image-2.5-flare", "size": "1536x864",
                              "quality": "xhigh", "output_format": "webp", "output_compression": 80,
                              "background": "opaque", "moderation": "auto", "action": "generate",
                              "partial_images": 3}]
    assert body["store"] is True and body["max_tool_calls"] == 1 and body["stream"] is True
    assert "stream" not in request.body(turn, streaming=False)
    assert "partial_images" not in request.body(turn, streaming=False)["tools"][0]


def test_a_value_the_studio_refuses_is_refused_with_the_same_sentence_before_any_call():
    with pytest.raises(errors.ValidationError, match="hd is closest to high"):
        check_turn(chat_model="gpt-5.4-mini", text="a fox", settings=ToolSettings(image_model="gpt-image-2",
                                                                                  quality="hd"))
    with pytest.raises(errors.ValidationError, match="mainline"):
        check_turn(chat_model="gpt-image-2", text="a fox", settings=LOW)
    with pytest.raises(errors.ValidationError, match="empty"):
        check_turn(chat_model="gpt-5.4-mini", text="  ", settings=LOW)


def test_an_image_and_a_painted_mask_travel_as_input_image_and_the_tools_mask():
    photo = render_image(64, 64, "png")
    import io

    from PIL import Image
    painting = Image.new("RGB", (64, 64), "black")
    painting.paste((255, 255, 255), (0, 0, 32, 32))
    buffer = io.BytesIO()
    painting.save(buffer, format="PNG")
    turn = check_turn(chat_model="gpt-5.4-mini", text="make the corner a window", settings=LOW,
                      images=(photo,), mask=buffer.getvalue())
    body = request.body(turn, streaming=False)
    assert responses_params_problem(body) is None
    parts = body["input"][0]["content"]
    assert [p["type"] for p in parts] == ["input_text", "input_image"]
    assert parts[1]["image_url"].startswith("data:image/png;base64,")
    assert body["tools"][0]["input_image_mask"]["image_url"].startswith("data:image/png;base64,")


def test_the_chat_model_comes_from_its_variable_checked_at_start():
    assert from_env({}, dotenv=False).chat_model == "gpt-5.4-mini"
    assert from_env({"DALLE3_CHAT_MODEL": "gpt-5.5"}, dotenv=False).chat_model == "gpt-5.5"
    for bad in ("gpt-image-2", "GPT 5!", "x" * 80):
        with pytest.raises(errors.ConfigurationError, match="DALLE3_CHAT_MODEL"):
            from_env({"DALLE3_CHAT_MODEL": bad}, dotenv=False)


# --------------------------------------------------------------------------- the fake, read by the SDK


def test_the_fakes_answers_are_what_the_official_sdk_reads(fake_api):
    client = openai.OpenAI(api_key=KEY, base_url=fake_api.base_url, max_retries=0)
    tools = [{"type": "image_generation", "model": "gpt-image-2", "quality": "low", "partial_images": 1}]
    first = client.responses.create(model="gpt-5.4-mini", input="a fox", tools=tools)
    call = next(item for item in first.output if item.type == "image_generation_call")
    assert call.result and call.revised_prompt == "Revised: a fox"
    assert first.usage.input_tokens > 0 and first.tool_usage.image_gen.output_tokens == 272
    events = list(client.responses.create(model="gpt-5.4-mini", input="stormier", tools=tools, stream=True,
                                          previous_response_id=first.id))
    kinds = [e.type for e in events]
    assert kinds[0] == "response.created" and kinds[-1] == "response.completed"
    assert "response.image_generation_call.partial_image" in kinds
    assert events[-1].response.previous_response_id == first.id
    with pytest.raises(openai.BadRequestError):
        client.responses.create(model="gpt-5.4-mini", input="x", previous_response_id="resp_unknown", tools=tools)


# --------------------------------------------------------------------------- turns end to end


def test_a_turn_saves_its_image_with_the_conversation_and_settles_the_cap_at_the_bill(fake_api, tmp_path):
    chat = make_chat(fake_api, tmp_path, library=True)
    conversation = chat.start(owner="shared", settings=LOW)
    first = chat.turn(ask(conversation, "a fox in snow"))
    assert first.record.answer == "Here is your image: a fox in snow"
    assert first.bill.total.estimate is False
    assert chat.studio.ledger.spent == pytest.approx(first.bill.total.usd)
    second = chat.turn(ask(conversation, "now stormier"))
    assert bodies(fake_api)[1]["previous_response_id"] == first.record.response_id
    parameters = read_parameters(second.image_path)
    assert parameters["conversation"] == conversation.id and parameters["turn"] == 2
    assert parameters["response_id"] == second.record.response_id
    assert parameters["parent_image"] == first.record.image
    assert parameters["prompt"] == "now stormier" and parameters["revised_prompt"] == "Revised: now stormier"
    found = chat.studio.library.search(LibraryQuery(words="stormier"))
    assert [e.path.name for e in found.entries] == [second.image_path.name]


def test_the_bill_counts_both_the_mainline_tokens_and_the_image_tool(fake_api, tmp_path):
    chat = make_chat(fake_api, tmp_path)
    conversation = chat.start(owner="shared", settings=ToolSettings(image_model="gpt-image-2", quality="low",
                                                                    size="1024x1024", partial_images=0))
    result = chat.turn(ask(conversation, "a fox", settings=conversation.settings))
    kept = fake_responses.state(fake_api).stored[result.record.response_id]
    usage, image = kept["usage"], kept["tool_usage"]["image_gen"]
    mainline = (usage["input_tokens"] * 0.75 + usage["output_tokens"] * 4.50) / 1e6
    tool = (image["input_tokens_details"]["text_tokens"] * 5 + image["output_tokens"] * 30) / 1e6
    assert result.bill.mainline.usd == pytest.approx(mainline)
    assert result.bill.tool.usd == pytest.approx(tool)


def test_previews_stream_first_and_only_the_final_image_is_saved(fake_api, tmp_path):
    chat = make_chat(fake_api, tmp_path)
    conversation = chat.start(owner="shared", settings=LOW)
    seen = []
    result = chat.turn(ask(conversation, "a lighthouse"), on_preview=seen.append)
    assert [(p.number, p.total) for p in seen] == [(1, 2), (2, 2)]
    assert bodies(fake_api)[0]["stream"] is True and bodies(fake_api)[0]["tools"][0]["partial_images"] == 2
    assert sorted(tmp_path.rglob("*.png")) == [result.image_path]


def test_a_question_gets_text_only_and_a_branch_continues_from_the_turn_chosen(fake_api, tmp_path):
    chat = make_chat(fake_api, tmp_path)
    conversation = chat.start(owner="shared", settings=LOW)
    first = chat.turn(ask(conversation, "a fox"))
    chat.turn(ask(conversation, "make it night"))
    why = chat.turn(ask(conversation, "why a fox?", parent=1))
    assert why.image_path is None and why.record.answer == "You asked: why a fox?"
    assert why.record.parent == 1
    assert bodies(fake_api)[2]["previous_response_id"] == first.record.response_id
    assert [t.number for t in why.conversation.leaves()] == [2, 3]
    assert [t.number for t in why.conversation.path_to(3)] == [1, 3]


@pytest.mark.parametrize("outcome, words", [
    (Outcome.content_policy(), "safety system"),
    (Outcome.insufficient_quota(), "out of credit"),
    (fake_responses.failed_response(), "could not finish"),
])
def test_a_refused_turn_says_so_and_the_conversation_goes_on_from_the_last_good_turn(fake_api, tmp_path, outcome,
                                                                                     words):
    chat = make_chat(fake_api, tmp_path)
    conversation = chat.start(owner="shared", settings=LOW)
    good = chat.turn(ask(conversation, "a fox"))
    fake_api.script(outcome)
    with pytest.raises(errors.DalleError, match=words) as caught:
        chat.turn(ask(conversation, "something else"))
    assert KEY not in caught.value.user_message
    after = chat.turn(ask(conversation, "a calmer fox"))
    assert bodies(fake_api)[-1]["previous_response_id"] == good.record.response_id
    assert [t.good for t in after.conversation.turns] == [True, False, True]
    assert after.conversation.turns[1].error == caught.value.user_message


def test_a_blocked_image_keeps_the_text_and_says_why(fake_api, tmp_path):
    chat = make_chat(fake_api, tmp_path)
    conversation = chat.start(owner="shared", settings=LOW)
    fake_api.script(fake_responses.image_blocked())
    result = chat.turn(ask(conversation, "a fox"))
    assert result.image_path is None and "safety system blocked the image" in result.record.note
    assert result.record.good


@pytest.mark.parametrize("kind", ["reset", "malformed", "error", "truncated"])
def test_a_stream_cut_is_said_plainly_never_resent_and_its_reservation_counts(fake_api, tmp_path, kind):
    chat = make_chat(fake_api, tmp_path)
    conversation = chat.start(owner="shared", settings=LOW)
    fake_api.script(Outcome.stream_fault(kind, after_partials=1))
    with pytest.raises(errors.DalleError) as caught:
        chat.turn(ask(conversation, "a fox"), on_preview=lambda p: None)
    assert "billed" in caught.value.user_message
    assert len(bodies(fake_api)) == 1
    assert chat.studio.ledger.spent > 0  # may have been billed: the cap counts it
    assert list(tmp_path.rglob("*.png")) == []


def test_a_stalled_stream_times_out_with_a_plain_message(fake_api, tmp_path):
    chat = make_chat(fake_api, tmp_path, timeout_s=1.0)
    conversation = chat.start(owner="shared", settings=LOW)
    fake_api.script(Outcome.stream_fault("stall", after_partials=1, seconds=5))
    with pytest.raises(errors.RequestTimeoutError, match="sent nothing"):
        chat.turn(ask(conversation, "a fox"), on_preview=lambda p: None)
    assert len(bodies(fake_api)) == 1


def test_an_endpoint_without_responses_is_said_once_and_not_asked_again(fake_api, tmp_path):
    chat = make_chat(fake_api, tmp_path)
    fake_responses.state(fake_api).mode = "absent"
    conversation = chat.start(owner="shared", settings=LOW)
    for _ in range(2):
        with pytest.raises(EndpointUnsuitable, match="no /responses endpoint"):
            chat.turn(ask(conversation, "a fox"))
    assert len(bodies(fake_api)) == 1
    assert "Responses API" in chat.client.problem()
    assert chat.studio.ledger.spent == 0


def test_an_endpoint_that_keeps_no_responses_is_explained(fake_api, tmp_path):
    chat = make_chat(fake_api, tmp_path)
    fake_responses.state(fake_api).keep = False
    conversation = chat.start(owner="shared", settings=LOW)
    chat.turn(ask(conversation, "a fox"))
    with pytest.raises(EndpointUnsuitable, match="store: false"):
        chat.turn(ask(conversation, "now at night"))
    assert "store: false" in chat.client.problem()


def test_the_spend_cap_refuses_a_turn_whose_worst_case_does_not_fit(fake_api, tmp_path):
    chat = make_chat(fake_api, tmp_path, cap=0.01)
    conversation = chat.start(owner="shared", settings=LOW)
    with pytest.raises(errors.SpendCapError):
        chat.turn(ask(conversation, "a fox"))
    assert bodies(fake_api) == []


# --------------------------------------------------------------------------- kept on disk


def test_a_conversation_survives_a_restart_and_is_listed_only_to_its_owner(fake_api, tmp_path):
    chat = make_chat(fake_api, tmp_path)
    alice = owner_for(False, b"secret", "token-alice")
    conversation = chat.start(owner=alice, settings=LOW)
    first = chat.turn(ask(conversation, "a fox"))
    restarted = make_chat(fake_api, tmp_path)
    again = restarted.store.get(conversation.id, alice)
    assert again is not None and again.turns == first.conversation.turns
    bob = owner_for(False, b"secret", "token-bob")
    assert restarted.store.get(conversation.id, bob) is None
    assert restarted.store.listing(bob) == [] and [c.id for c in restarted.store.listing(alice)] == [conversation.id]
    restarted.turn(ask(again, "now at night"))
    assert bodies(fake_api)[-1]["previous_response_id"] == first.record.response_id
    stored = (tmp_path / ".conversations" / f"{conversation.id}.json").read_text()
    assert KEY not in stored and json.loads(stored)["owner"] == alice


def test_a_damaged_conversation_file_is_left_alone_and_not_listed(tmp_path):
    store = ConversationStore(tmp_path)
    kept = store.create(owner="shared", chat_model="gpt-5.4-mini", settings=LOW, title="fox")
    (tmp_path / ".conversations" / "AAAAAAAAAAAAAAAA.json").write_text("{not json")
    assert [c.id for c in store.listing("shared")] == [kept.id]


def test_offline_the_simulator_answers_every_turn_at_no_cost(tmp_path):
    studio = Studio(Settings(api_key=None, output_dir=tmp_path))
    chat = Chat(studio)
    conversation = chat.start(owner="shared", settings=LOW)
    result = chat.turn(ask(conversation, "a fox"))
    assert result.backend == "simulator" and result.bill.total.usd == 0
    assert "offline simulator" in result.record.answer and result.image_path.is_file()


# --------------------------------------------------------------------------- the fake's own checks


def test_the_fake_refuses_what_the_sdk_types_or_the_image_rules_refuse(fake_api):
    import requests

    url, auth = f"{fake_api.base_url}/responses", {"Authorization": f"Bearer {KEY}"}
    base = {"model": "gpt-5.4-mini", "input": "a fox"}
    cases = [
        ({**base, "temperature_x": 1}, "unknown_parameter", "temperature_x"),
        ({**base, "tools": [{"type": "image_generation", "model": "gpt-image-2", "quality": "xhigh"}]},
         "invalid_value", "quality"),
        ({**base, "tools": [{"type": "image_generation", "size": "1000x1000"}]}, "invalid_value", "size"),
        ({**base, "previous_response_id": "resp_nowhere"}, "previous_response_not_found", "previous_response_id"),
    ]
    for body, code, param in cases:
        answer = requests.post(url, json=body, headers=auth, timeout=10)
        assert answer.status_code == 400, body
        assert (answer.json()["error"]["code"], answer.json()["error"]["param"]) == (code, param), answer.text
    assert requests.post(url, json=base, timeout=10).status_code == 401
    assert fake_api.pending == 0


def test_the_estimate_before_the_first_turn_needs_no_conversation_and_is_marked(tmp_path):
    chat = Chat(Studio(Settings(api_key=KEY, output_dir=tmp_path)))
    bill = chat.estimate(TurnAsk(conversation_id="", owner="shared", text="a fox", settings=LOW))
    assert bill.total.estimate and bill.tool.usd == pytest.approx(0.0082)  # gpt-image-2 low 1024², the table's
    assert str(bill.total).startswith("≈ $")


def test_the_library_names_an_images_conversation_turn_and_parent(fake_api, tmp_path):
    from dalle3.chat.view import lineage
    from dalle3.views.status import inert

    chat = make_chat(fake_api, tmp_path, library=True)
    conversation = chat.start(owner="shared", settings=LOW)
    first = chat.turn(ask(conversation, "a fox"))
    second = chat.turn(ask(conversation, "now <b>stormier</b>"))
    entry = chat.studio.library.search(LibraryQuery(words="stormier")).entries[0]
    assert lineage(entry.parameters) == (f"Made in conversation {inert(conversation.id)}, turn 2, continuing "
                                         f"from {inert(first.record.image)} (the Chat tab reopens it there).")
    assert lineage({"prompt": "a studio image"}) is None
    assert second.image_path.name == entry.path.name
