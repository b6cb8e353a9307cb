"""Jobs of edits: the same references (and mask) applied to every row, run now and as a Batch, against the fake."""

from __future__ import annotations

import hashlib
import json

import pytest

from dalle3.edits.inputs import mask_from_painting
from dalle3.errors import ValidationError
from dalle3.files.metadata import read_parameters
from dalle3.jobs import spec
from dalle3.jobs.edit_job import with_edit
from dalle3.jobs.batch import BatchManager
from dalle3.jobs.run import JobRunner
from dalle3.jobs.store import JobStore
from dalle3.studio import Studio
from tests.test_edit import image_bytes, painted_circle
from tests.test_jobs import studio_for
from tests.test_jobs_batch import KEY, manager_for, run_to_end

PHOTO = image_bytes((64, 48), color=(200, 30, 30))
OTHER = image_bytes((64, 48), color=(20, 30, 200))


def edit_job(prompts: str = "a red hat\na blue hat", model: str = "gpt-image-2", axes: str = "", **edit) -> spec.Job:
    base = {"model": model, "quality": "low"} if model.startswith("gpt") and not axes else {"model": model}
    job = spec.build_job(spec.prompt_lines(prompts), base, spec.parse_axes(axes))
    return with_edit(job, edit.pop("images", [PHOTO]), **edit)


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_a_job_of_edits_run_now_edits_every_row_with_the_reference_and_records_it(fake_api, tmp_path):
    studio = studio_for(fake_api, tmp_path)
    runner = JobRunner(studio, JobStore(tmp_path))
    job = edit_job(names=["photo.png"])
    record = runner.create(job)
    final, results = runner.run(record, job)
    assert (final.done, final.failed) == (2, 0) and fake_api.generation_count == 0
    assert record.endpoint == "/v1/images/edits" and record.edit["parameters"]["references"] == [sha(PHOTO)]
    sent = fake_api.edit_requests
    assert sorted(r.form["prompt"] for r in sent) == ["a blue hat", "a red hat"]
    assert all([p.data for p in r.files if p.name.startswith("image")] == [PHOTO] for r in sent)
    for result in results:
        params = read_parameters(result.paths[0])
        assert params["references"] == [sha(PHOTO)] and params["reference_names"] == ["photo.png"]
        assert params["job_id"] == record.id and params["job_row"] == result.custom_id


def test_the_estimate_of_a_job_of_edits_adds_the_references_input_cost_to_every_row():
    plain = spec.build_job(spec.prompt_lines("a red hat\na blue hat"), {"model": "gpt-image-2", "quality": "low"})
    edits = edit_job(images=[PHOTO, OTHER])
    assert edits.estimate().now_usd > plain.estimate().now_usd
    assert edits.estimate().batch_worst_usd > plain.estimate().batch_worst_usd
    assert "each edited from 2 references" in spec.summary(edits)


def test_a_job_of_edits_as_a_batch_uploads_each_file_once_and_every_row_names_it(fake_api, tmp_path):
    manager = manager_for(fake_api, tmp_path)
    mask = mask_from_painting(painted_circle((64, 48)))
    job = edit_job("a red hat\na blue hat\na green hat", images=[PHOTO, OTHER, PHOTO], mask=mask,
                   names=["photo.png", "other.png", "photo.png"])
    record = manager.submit(job, server_allowed=True)
    uploads = fake_api.batch_api.uploads
    images = [u for u in uploads if u["purpose"] == "user_data"]
    assert [u["filename"] for u in images] == ["photo.png", "other.png", "mask.png"]
    assert all(u["content_type"] == "image/png" for u in images) and uploads[-1]["purpose"] == "batch"
    assert fake_api.batch_api.creates[0]["endpoint"] == "/v1/images/edits"
    lines = [json.loads(line) for line in uploads[-1]["lines"]]
    files = record.edit["files"]
    ids = [{"file_id": files["images"][sha(PHOTO)]}, {"file_id": files["images"][sha(OTHER)]}]
    assert all(line["url"] == "/v1/images/edits" and line["body"]["images"] == [ids[0], ids[1], ids[0]]
               and line["body"]["mask"] == {"file_id": files["mask"]} for line in lines)
    assert "moderation" not in lines[0]["body"] and "base64" not in uploads[-1]["lines"][0]
    final = run_to_end(manager, record.id)
    assert (final.status, final.done, final.failed) == ("completed", 3, 0)
    for result in manager.store.results(record.id):
        params = read_parameters(result["paths"][0])
        assert params["references"] == [sha(PHOTO), sha(OTHER), sha(PHOTO)] and params["mask"] == sha(mask)
        assert params["job_row"] == result["custom_id"] and params["batch_id"] == final.batch_id


def test_a_restart_between_submit_and_end_resumes_the_batch_of_edits(fake_api, tmp_path):
    first = manager_for(fake_api, tmp_path, max_spend_usd=5.0)
    record = first.submit(edit_job(names=["photo.png"]), server_allowed=True)
    first.refresh(record.id)
    second = BatchManager(Studio(first.studio.settings), JobStore(tmp_path))  # a new process: nothing in memory
    assert second.resume() == [record.id]
    kept = second.store.load(record.id)
    assert kept.edit["files"]["images"] and kept.endpoint == "/v1/images/edits"
    final = run_to_end(second, record.id)
    assert (final.status, final.done, final.settled) == ("completed", 2, True)
    saved = [read_parameters(r["paths"][0]) for r in second.store.results(record.id)]
    assert all(p["references"] == [sha(PHOTO)] and p["reference_names"] == ["photo.png"] for p in saved)
    assert KEY not in (tmp_path / ".jobs" / record.id / "job.json").read_text()


def test_a_row_naming_a_file_the_api_does_not_have_fails_with_a_plain_reason(fake_api, tmp_path, monkeypatch):
    manager = manager_for(fake_api, tmp_path)
    monkeypatch.setattr(manager.http, "upload_input", lambda *args: {"id": "file-" + "0" * 24})
    record = manager.submit(edit_job(), server_allowed=True)
    final = run_to_end(manager, record.id)
    assert (final.status, final.done, final.failed) == ("completed", 0, 2)
    errors = [r["error"] for r in manager.store.results(record.id)]
    assert all("file-000000000000000000000000" in e and "Traceback" not in e for e in errors)


@pytest.mark.parametrize(("prompts", "model", "axes", "images", "said"), [
    ("a hat", "dall-e-3", "", [PHOTO], "dall-e-3 cannot edit images. Choose a GPT Image model"),
    ("a hat", "gpt-image-2", "model: gpt-image-2 | dall-e-3", [PHOTO], "dall-e-3 cannot edit images"),
    ("a hat", "gpt-image-2", "", [PHOTO] * 17, "17 images given; an edit takes at most 16. Remove 1."),
    ("a hat", "gpt-image-2", "", [b"not an image"], "Reference image 1 is not an image"),
])
def test_a_job_of_edits_is_refused_with_a_sentence(prompts, model, axes, images, said):
    with pytest.raises(ValidationError) as refused:
        edit_job(prompts, model, axes, images=images)
    assert said in refused.value.user_message
