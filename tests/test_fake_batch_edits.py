"""The fake's Batch of edits: JSON rows whose ``images`` and ``mask`` name uploaded files, checked as the SDK types say."""

from __future__ import annotations

import json

import requests
from openai.types import Batch, FileObject, ImagesResponse

from tests.fake_openai import FakeOpenAI
from tests.sdk_check import edit_json_params_problem
from tests.test_edit import image_bytes

AUTH = {"Authorization": "Bearer sk-test-fake-batch-edits"}


def upload(fake: FakeOpenAI, name: str, data: bytes, mime: str, purpose: str) -> str:
    answer = requests.post(f"{fake.base_url}/files", headers=AUTH, data={"purpose": purpose},
                           files={"file": (name, data, mime)}, timeout=10)
    assert answer.status_code == 200, answer.text
    return FileObject.model_validate(answer.json()).id


def row(custom_id: str, **body) -> str:
    body = {"model": "gpt-image-2", "prompt": "a hat", "size": "1024x1024", "quality": "low", **body}
    return json.dumps({"custom_id": custom_id, "method": "POST", "url": "/v1/images/edits", "body": body})


def test_edit_rows_use_uploaded_files_and_an_unknown_or_batch_file_fails_its_row_with_a_400(fake_api):
    photo = upload(fake_api, "photo.png", image_bytes((64, 48)), "image/png", "user_data")
    lines = [row("good", images=[{"file_id": photo}]),
             row("unknown", images=[{"file_id": "file-" + "0" * 24}]),
             row("both", images=[{"file_id": photo, "image_url": "data:image/png;base64,AA=="}]),
             row("dall-e", images=[{"file_id": photo}], model="dall-e-3")]
    jsonl = upload(fake_api, "input.jsonl", "\n".join(lines).encode(), "application/jsonl", "batch")
    lines.append(row("the-jsonl", images=[{"file_id": jsonl}]))
    jsonl = upload(fake_api, "input.jsonl", "\n".join(lines).encode(), "application/jsonl", "batch")
    created = requests.post(f"{fake_api.base_url}/batches", headers=AUTH, timeout=10, json={
        "input_file_id": jsonl, "endpoint": "/v1/images/edits", "completion_window": "24h"}).json()
    for _ in range(3):
        batch = Batch.model_validate(requests.get(f"{fake_api.base_url}/batches/{created['id']}", headers=AUTH,
                                                  timeout=10).json())
    assert batch.status == "completed" and batch.request_counts.completed == 1
    output, errors = ([json.loads(line) for line in requests.get(
        f"{fake_api.base_url}/files/{file_id}/content", headers=AUTH, timeout=10).text.splitlines()]
        for file_id in (batch.output_file_id, batch.error_file_id))
    good = ImagesResponse.model_validate(output[0]["response"]["body"])
    assert good.usage.input_tokens_details.image_tokens > 0
    failed = {line["custom_id"]: line["response"] for line in errors}
    assert {name: answer["status_code"] for name, answer in failed.items()} == {
        "unknown": 400, "both": 400, "dall-e": 400, "the-jsonl": 400}
    assert "file-000000000000000000000000" in failed["unknown"]["body"]["error"]["message"]


def test_an_edit_row_is_checked_against_the_sdk_edit_parameters():
    good = {"prompt": "a hat", "model": "gpt-image-2", "images": [{"file_id": "file-1"}], "mask": {"file_id": "f"}}
    assert edit_json_params_problem(good) is None
    assert edit_json_params_problem({**good, "image": "photo.png"}).code == "unknown_parameter"
    assert edit_json_params_problem({**good, "quality": "ultra"}).code == "invalid_value"
    assert edit_json_params_problem({"prompt": "a hat"}).param == "images"
    assert edit_json_params_problem({**good, "mask": {}}).param == "mask"
