"""``python -m dalle3 batch ...`` run as a real subprocess against the loopback fake."""

from __future__ import annotations

import re

import hashlib

from dalle3.files.metadata import read_parameters
from tests.test_cli import KEY, run_cli
from tests.test_edit import image_bytes


def test_submit_now_runs_a_template_across_an_axis_and_prints_each_result(tmp_path, fake_api):
    done = run_cli(tmp_path, "batch", "submit", "--template", "a {red|blue} fox", "--axis", "quality=low,high",
                   "--model", "gpt-image-2", "--now", fake=fake_api)
    assert done.returncode == 0, done.stderr
    assert "4 requests (4 images)" in done.stderr and "as a Batch" in done.stderr
    assert re.search(r"run now\s+done\s+4/4 done, 0 failed, 0 left", done.stdout)
    first = re.search(r"row-00001  (\S+)", done.stdout).group(1)
    params = read_parameters(first)
    assert params["prompt"] == "a red fox" and params["quality"] == "low" and params["job_row"] == "row-00001"
    assert KEY not in done.stdout + done.stderr


def test_submit_fetch_and_status_of_a_batch(tmp_path, fake_api):
    submitted = run_cli(tmp_path, "batch", "submit", "a fox", "an owl", "--model", "gpt-image-2", fake=fake_api)
    assert submitted.returncode == 0, submitted.stderr
    job_id = re.search(r"(job-\S+)", submitted.stdout).group(1)
    assert "Batch" in submitted.stdout and "validating" in submitted.stdout
    for _ in range(4):
        fetched = run_cli(tmp_path, "batch", "fetch", job_id, fake=fake_api)
        if "completed" in fetched.stdout:
            break
    assert re.search(r"completed\s+2/2 done", fetched.stdout), fetched.stdout
    assert read_parameters(re.search(r"row-00002  (\S+)", fetched.stdout).group(1))["prompt"] == "an owl"
    listing = run_cli(tmp_path, "batch", "status", fake=fake_api)
    assert job_id in listing.stdout


def test_cancel_and_plain_refusals(tmp_path, fake_api):
    submitted = run_cli(tmp_path, "batch", "submit", "a fox", "--model", "gpt-image-2", fake=fake_api)
    job_id = re.search(r"(job-\S+)", submitted.stdout).group(1)
    cancelled = run_cli(tmp_path, "batch", "cancel", job_id, fake=fake_api)
    assert cancelled.returncode == 0 and "cancelling" in cancelled.stdout
    bad = run_cli(tmp_path, "batch", "submit", "--axis", "colour=red", "a fox", fake=fake_api)
    assert bad.returncode == 1 and "compare axis is one of" in bad.stderr and "Traceback" not in bad.stderr
    over = run_cli(tmp_path, "batch", "submit", "a fox", "an owl", "--model", "dall-e-3", "--now", fake=fake_api,
                   DALLE3_MAX_SPEND_USD="0.05")
    assert over.returncode == 1 and "spending cap" in over.stderr
    missing = run_cli(tmp_path, "batch", "status", "job-20990101-000000-abcdef", fake=fake_api)
    assert missing.returncode == 1 and "no job" in missing.stderr


def test_submit_with_image_edits_it_with_every_row_and_refuses_plainly(tmp_path, fake_api):
    photo = tmp_path / "photo.png"
    photo.write_bytes(image_bytes((64, 48)))
    done = run_cli(tmp_path, "batch", "submit", "a red hat", "a blue hat", "--image", str(photo), "--model",
                   "gpt-image-2", "--quality", "low", "--now", fake=fake_api)
    assert done.returncode == 0, done.stderr
    assert "each edited from 1 reference" in done.stderr and len(fake_api.edit_requests) == 2
    params = read_parameters(re.search(r"row-00002  (\S+)", done.stdout).group(1))
    assert params["references"] == [hashlib.sha256(photo.read_bytes()).hexdigest()]
    assert params["reference_names"] == ["photo.png"] and params["prompt"] == "a blue hat"
    submitted = run_cli(tmp_path, "batch", "submit", "a hat", "--image", str(photo), "--image", str(photo),
                        "--model", "gpt-image-2", fake=fake_api)
    assert submitted.returncode == 0, submitted.stderr
    assert [u["purpose"] for u in fake_api.batch_api.uploads] == ["user_data", "batch"]
    dalle = run_cli(tmp_path, "batch", "submit", "a hat", "--image", str(photo), "--model", "dall-e-3", fake=fake_api)
    assert dalle.returncode == 1 and "dall-e-3 cannot edit images" in dalle.stderr and "Traceback" not in dalle.stderr
    missing = run_cli(tmp_path, "batch", "submit", "a hat", "--image", str(tmp_path / "nope.png"), fake=fake_api)
    assert missing.returncode == 1 and "Cannot read the reference image nope.png" in missing.stderr
