"""The page's /batch, /batch_status and /batch_cancel through gradio_client, against the loopback fake."""

from __future__ import annotations

import base64
import hashlib
import json
import time

import pytest
import requests
from gradio_client import handle_file
from gradio_client.exceptions import AppError

from dalle3.files.metadata import read_parameters
from tests.apphelpers import SERVER_KEY, app_settings, running_app
from tests.test_edit import image_bytes
from ui.jobs import SUBMIT_ARGS

OWN = "sk-visitor-own-0123456789abcdef"


@pytest.fixture(scope="module")
def served(fake, tmp_path_factory):
    out = tmp_path_factory.mktemp("outputs")
    with running_app(app_settings(fake.base_url, out), sleep=lambda s: None) as handle:
        yield handle


def until_ended(client, job_id: str, tries: int = 40) -> dict:
    for _ in range(tries):
        job = client.predict(job_id=job_id, api_name="/batch_status")
        if job["status"] not in ("validating", "in_progress", "finalizing", "running", "cancelling"):
            return job
        time.sleep(0.1)
    raise AssertionError(job)


def test_a_batch_submitted_over_http_reports_its_rows_when_it_ends(client, fake, served):
    job = client.predict(prompts="a fox\nan owl", model="gpt-image-2", axes="quality: low | high",
                         api_name="/batch")
    assert job["kind"] == "batch" and job["status"] == "validating" and job["count"] == 4
    assert job["estimate_batch_usd"] == pytest.approx(job["estimate_now_usd"] / 2)
    assert fake.batch_api.uploads[-1]["token"] == SERVER_KEY
    ended = until_ended(client, job["id"])
    assert ended["status"] == "completed" and ended["done"] == 4 and ended["left"] == 0
    row = next(r for r in ended["results"] if r["custom_id"] == "row-00002")
    assert row["ok"] and row["labels"] == {"quality": "high"} and row["files"][0].endswith(".png")
    assert "/" in row["files"][0] and not row["files"][0].startswith("/")  # no server path
    saved = served.studio.output_dir / row["files"][0]
    assert read_parameters(saved)["job_id"] == job["id"]
    assert str(served.studio.output_dir) not in json.dumps(ended) and ended["sheet"].count("/") == 1
    listed = client.predict(job_id="", api_name="/batch_status")
    assert job["id"] in [j["id"] for j in listed["jobs"]]


def test_a_job_run_now_over_http_runs_in_the_background(client, fake):
    job = client.predict(template="a {red|blue} kite", model="gpt-image-2", mode="now", api_name="/batch")
    assert job["kind"] == "now" and job["count"] == 2
    ended = until_ended(client, job["id"])
    assert ended["status"] == "done" and ended["done"] == 2 and fake.generation_count == 2


def test_cancel_over_http_and_plain_errors(client, fake):
    job = client.predict(prompts="a fox", model="gpt-image-2", api_name="/batch")
    cancelled = client.predict(job_id=job["id"], api_name="/batch_cancel")
    assert cancelled["status"] == "cancelling"
    assert until_ended(client, job["id"])["status"] == "cancelled"
    with pytest.raises(AppError, match="compare axis is one of"):
        client.predict(prompts="a fox", axes="colour: red", api_name="/batch")
    with pytest.raises(AppError, match="is not a job id"):
        client.predict(job_id="../../etc", api_name="/batch_status")


def test_on_a_public_server_the_server_key_takes_no_batch_and_own_jobs_stay_private(fake, tmp_path):
    with running_app(app_settings(fake.base_url, tmp_path), host="0.0.0.0") as app:
        with app.connected() as anonymous, app.connected(OWN) as visitor, app.connected("sk-other-9876543210") as other:
            with pytest.raises(AppError, match="need a login"):
                anonymous.predict(prompts="a fox", model="gpt-image-2", api_name="/batch")
            job = visitor.predict(prompts="a fox", model="gpt-image-2", api_name="/batch")
            assert fake.batch_api.uploads[-1]["token"] == OWN
            assert [j["id"] for j in visitor.predict(job_id="", api_name="/batch_status")["jobs"]] == [job["id"]]
            assert anonymous.predict(job_id="", api_name="/batch_status")["jobs"] == []
            with pytest.raises(AppError, match="no job"):
                other.predict(job_id=job["id"], api_name="/batch_status")
            assert until_ended(visitor, job["id"])["status"] == "completed"


def test_a_job_of_edits_over_http_takes_images_as_edit_does(client, fake, served, tmp_path):
    photo = tmp_path / "photo.png"
    photo.write_bytes(image_bytes((64, 48)))
    job = client.predict(prompts="a red hat\na blue hat", model="gpt-image-2", images=[handle_file(str(photo))],
                         api_name="/batch")
    assert job["endpoint"] == "/v1/images/edits" and job["edit"]["files"]["images"]
    assert [u["purpose"] for u in fake.batch_api.uploads] == ["user_data", "batch"]
    ended = until_ended(client, job["id"])
    assert ended["status"] == "completed" and ended["done"] == 2
    saved = read_parameters(served.studio.output_dir / ended["results"][0]["files"][0])
    assert saved["references"] == [hashlib.sha256(photo.read_bytes()).hexdigest()]
    with pytest.raises(AppError, match="dall-e-3 cannot edit images"):
        client.predict(prompts="a hat", model="dall-e-3", images=[handle_file(str(photo))], api_name="/batch")


def test_a_job_of_edits_over_plain_http_takes_data_urls_through_the_guard(client, fake, served):
    data_url = "data:image/png;base64," + base64.b64encode(image_bytes((64, 48))).decode()
    given = {"prompts": "a red hat", "model": "gpt-image-2", "mode": "now", "images": [data_url]}
    answer = requests.post(f"{served.url}gradio_api/call/batch", timeout=30,
                           json={"data": [given.get(name, "") for name in SUBMIT_ARGS]})
    assert answer.status_code == 200, answer.text
    events = requests.get(f"{served.url}gradio_api/call/batch/{answer.json()['event_id']}", timeout=30).text
    job = json.loads(events.split("data: ", 2)[-1].splitlines()[0])[0]
    assert job["kind"] == "now" and job["endpoint"] == "/v1/images/edits"
    assert until_ended(client, job["id"])["done"] == 1 and len(fake.edit_requests) == 1
    too_many = {**given, "images": [data_url] * 19}
    refused = requests.post(f"{served.url}gradio_api/call/batch", timeout=30,
                            json={"data": [too_many.get(name, "") for name in SUBMIT_ARGS]})
    assert refused.status_code == 422 and "/batch takes at most 16 images and a mask" in refused.text
    given["images"] = [data_url] * 17  # past the guard's count of files, refused by the edit's own rule
    answer = requests.post(f"{served.url}gradio_api/call/batch", timeout=30,
                           json={"data": [given.get(name, "") for name in SUBMIT_ARGS]})
    events = requests.get(f"{served.url}gradio_api/call/batch/{answer.json()['event_id']}", timeout=30).text
    assert "event: error" in events and "17 images given; an edit takes at most 16" in events


def test_a_job_of_edits_the_server_cap_cannot_pay_is_refused_before_its_images_are_opened(fake, tmp_path,
                                                                                         monkeypatch):
    from dalle3.edits import inputs

    monkeypatch.setattr(inputs, "prepare_all", lambda *a: pytest.fail("decoded before the cap was asked"))
    photo = tmp_path / "photo.png"
    photo.write_bytes(image_bytes((64, 48)))
    fake.reset()
    with running_app(app_settings(fake.base_url, tmp_path / "out", max_spend_usd=0.001)) as app:
        with app.connected() as client:
            with pytest.raises(AppError, match="cap"):
                client.predict(prompts="a hat", model="gpt-image-2", images=[handle_file(str(photo))], mode="now",
                               api_name="/batch")
    assert fake.batch_api.uploads == [] and fake.edit_requests == []
