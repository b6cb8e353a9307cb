"""Jobs: making one (lists, files, templates, axes) and running it now against the fake OpenAI."""

from __future__ import annotations

import json
import threading

import pytest

from dalle3.errors import ValidationError
from dalle3.jobs import spec
from dalle3.jobs.run import JobRunner
from dalle3.jobs.store import JobStore
from dalle3.ledger import LEDGER_NAME
from dalle3.files.metadata import read_parameters
from dalle3.settings import Settings
from dalle3.studio import Studio
from tests.fake_openai import FakeOpenAI, Outcome

KEY = "sk-test-jobs-0123456789"


def studio_for(fake: FakeOpenAI, tmp_path, **overrides) -> Studio:
    settings = Settings(api_key=KEY, base_url=fake.base_url, output_dir=tmp_path, timeout_s=10.0, max_retries=0,
                        **overrides)
    return Studio(settings)


def test_template_expands_alternatives_and_named_lists():
    prompts = spec.expand_template("a {red|blue} {animal} in {weather}",
                                   spec.named_lists("animal: fox | owl\nweather: snow | rain"))
    assert len(prompts) == 8
    assert prompts[0] == "a red fox in snow" and prompts[-1] == "a blue owl in rain"


def test_template_refuses_unknown_names_and_too_many_prompts():
    with pytest.raises(ValidationError, match="neither alternatives"):
        spec.expand_template("a {colour} fox")
    with pytest.raises(ValidationError, match="at most 100"):
        spec.expand_template("{a|b|c|d|e} {a|b|c|d|e} {a|b|c|d|e}", limit=100)


def test_compare_axes_cross_every_prompt_and_estimate_half_as_a_batch():
    axes = spec.parse_axes("quality: low | high\nsize=1024x1024,1536x1024")
    job = spec.build_job(spec.prompt_lines("a fox\n# a comment\n\na lighthouse"), {"model": "gpt-image-2"}, axes)
    assert job.count == 8 and job.axes == ("quality", "size")
    assert job.rows[1].labels == (("quality", "low"), ("size", "1536x1024"))
    assert job.rows[1].request.size == "1536x1024" and job.rows[1].request.quality == "low"
    e = job.estimate()
    assert e.now_usd > 0 and e.batch_usd == pytest.approx(e.now_usd / 2)
    assert "8 requests" in spec.summary(job) and "as a Batch" in spec.summary(job)


def test_csv_rows_carry_their_own_settings_and_a_bad_row_is_named():
    rows = spec.csv_rows("prompt,model,quality,seed\na fox,gpt-image-2,high,7\nan owl,dall-e-3,hd,8\n")
    job = spec.build_job(rows)
    assert [r.request.model for r in job.rows] == ["gpt-image-2", "dall-e-3"]
    assert job.rows[0].request.seed == 7 and job.rows[1].request.quality == "hd"
    with pytest.raises(ValidationError, match=r"Row 2: .*Quality 'ultra'"):
        spec.build_job(spec.csv_rows("prompt,quality\na fox,high\nan owl,ultra\n"), {"model": "gpt-image-2"})


def test_jsonl_rows_and_plain_errors():
    job = spec.build_job(spec.jsonl_rows('{"prompt": "a fox", "model": "gpt-image-2", "background": "opaque"}\n'))
    assert job.rows[0].request.options["background"] == "opaque"
    with pytest.raises(ValidationError, match="line 1 is not valid JSON"):
        spec.jsonl_rows("{nope")
    with pytest.raises(ValidationError, match="no prompts"):
        spec.build_job([])


def test_job_above_the_limit_or_over_the_cap_is_refused_before_anything_runs():
    with pytest.raises(ValidationError, match="at most 10 are allowed"):
        spec.build_job(spec.prompt_lines("a\nb\nc"), axes={"seed": [str(i) for i in range(4)]}, limit=10)
    job = spec.build_job(spec.prompt_lines("a fox\nan owl"), {"model": "dall-e-3"})
    assert spec.refusal(job, batch=False, remaining_usd=0.05) is not None
    assert "spending cap" in spec.refusal(job, batch=True, remaining_usd=0.01)
    assert spec.refusal(job, batch=False, remaining_usd=None) is None


def test_run_now_saves_every_image_with_its_job_and_one_failure_does_not_stop_the_others(fake_api, tmp_path):
    studio = studio_for(fake_api, tmp_path)
    job = spec.build_job(spec.prompt_lines("a fox\nan owl\na cat\na dog"), {"model": "gpt-image-2", "quality": "low"})
    fake_api.script(Outcome.success(), Outcome.content_policy())
    runner = JobRunner(studio, JobStore(tmp_path))
    record = runner.create(job)
    seen = []
    final, results = runner.run(record, job, on_result=lambda r, p: seen.append(p), concurrency=1)
    assert (final.done, final.failed, final.status) == (3, 1, "done")
    assert seen[-1].left == 0 and seen[-1].spent_usd > 0
    failed = [r for r in results if not r.ok]
    assert len(failed) == 1 and "safety" in failed[0].error.lower()
    params = read_parameters(results[0].paths[0])
    assert params["job_id"] == record.id and params["job_row"] == "row-00001"
    assert final.spent_usd == pytest.approx(sum(r.cost_usd for r in results))
    assert (tmp_path / LEDGER_NAME).exists()


def test_run_now_keeps_within_the_concurrency(fake_api, tmp_path):
    studio = studio_for(fake_api, tmp_path, concurrency=3)
    fake_api.default_delay_s = 0.2
    fake_api.rendezvous = 3
    job = spec.build_job(spec.prompt_lines("\n".join(f"prompt {i}" for i in range(9))), {"model": "gpt-image-2"})
    runner = JobRunner(studio, JobStore(tmp_path))
    final, _ = runner.run(runner.create(job), job)
    assert final.done == 9 and fake_api.max_in_flight == 3


def test_stop_ends_what_has_not_started(fake_api, tmp_path):
    studio = studio_for(fake_api, tmp_path)
    job = spec.build_job(spec.prompt_lines("\n".join(f"prompt {i}" for i in range(6))), {"model": "gpt-image-2"})
    runner = JobRunner(studio, JobStore(tmp_path))
    record = runner.create(job)
    stopped = threading.Event()

    def after_first(result, progress):
        if not stopped.is_set():
            stopped.set()
            runner.stop(record.id)

    final, results = runner.run(record, job, on_result=after_first, concurrency=1)
    assert final.status == "stopped" and final.done == 1
    assert sum(r.stopped for r in results) == 5 and fake_api.generation_count == 1


def test_run_now_on_a_capped_server_key_reserves_per_request(fake_api, tmp_path):
    studio = studio_for(fake_api, tmp_path, max_spend_usd=0.09)
    job = spec.build_job(spec.prompt_lines("a fox\nan owl\na cat"), {"model": "dall-e-3"})
    runner = JobRunner(studio, JobStore(tmp_path))
    final, results = runner.run(runner.create(job), job, concurrency=1)
    assert final.done == 2 and final.failed == 1
    assert "spending cap" in [r for r in results if not r.ok][0].error


def test_a_compare_job_makes_a_contact_sheet_with_the_jobs_parameters_inside(fake_api, tmp_path):
    studio = studio_for(fake_api, tmp_path)
    fake_api.script(Outcome.success(), Outcome.content_policy())
    job = spec.build_job(spec.prompt_lines("a fox"), {"model": "gpt-image-2"},
                         spec.parse_axes("quality: low | high\nsize: 1024x1024 | 1536x1024"))
    runner = JobRunner(studio, JobStore(tmp_path))
    final, _ = runner.run(runner.create(job), job, concurrency=1)
    params = read_parameters(final.sheet)
    assert params["kind"] == "contact_sheet" and params["job_id"] == final.id
    assert params["axes"] == ["quality", "size"] and len(params["cells"]) == 4
    cells = {(c["labels"]["quality"], c["labels"]["size"]): c for c in params["cells"]}
    assert cells[("low", "1536x1024")]["note"] == "failed" and cells[("low", "1536x1024")]["file"] is None
    assert cells[("high", "1024x1024")]["cost_usd"] > 0


def test_a_plain_list_makes_no_contact_sheet(tmp_path):
    studio = Studio(Settings(offline=True, output_dir=tmp_path))
    job = spec.build_job(spec.prompt_lines("a fox\nan owl"))
    runner = JobRunner(studio, JobStore(tmp_path))
    final, results = runner.run(runner.create(job), job)
    assert final.sheet is None and all(r.ok for r in results) and final.spent_usd == 0


def test_a_run_now_job_cut_off_by_a_restart_is_shown_as_stopped(tmp_path):
    from dalle3.jobs.service import Jobs

    studio = Studio(Settings(offline=True, output_dir=tmp_path))
    job = spec.build_job(spec.prompt_lines("a fox"))
    record = JobRunner(studio, JobStore(tmp_path)).create(job)  # created, never run: as if the process died
    jobs = Jobs(Studio(Settings(offline=True, output_dir=tmp_path)))
    jobs.start()
    jobs.poller.stop()
    stale = jobs.store.load(record.id)
    assert stale.status == "stopped" and "images it saved are kept" in stale.message


def test_two_jobs_at_once_share_the_concurrency(fake_api, tmp_path):
    studio = studio_for(fake_api, tmp_path, concurrency=2)
    fake_api.default_delay_s = 0.2
    runner = JobRunner(studio, JobStore(tmp_path))
    jobs = [spec.build_job(spec.prompt_lines("\n".join(f"{name} {i}" for i in range(4))), {"model": "gpt-image-2"})
            for name in ("fox", "owl")]
    records = [runner.create(job) for job in jobs]
    threads = [threading.Thread(target=runner.run, args=(r, j)) for r, j in zip(records, jobs)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert fake_api.generation_count == 8 and fake_api.max_in_flight == 2


def test_the_pages_fields_and_an_uploaded_csv_make_one_job(tmp_path):
    from dalle3.jobs.service import job_from
    from ui.jobs import _file_rows

    upload = tmp_path / "rows.csv"
    upload.write_text("prompt,quality\na harbour,high\n", encoding="utf-8")
    job = job_from({"prompts": "a fox", "template": "a {red|blue} kite", "settings": "quality: low\nsize: 1536x1024",
                    "model": "gpt-image-2", "axes": ""}, _file_rows(str(upload)), safety_identifier="abc")
    assert [r.request.prompt for r in job.rows] == ["a fox", "a red kite", "a blue kite", "a harbour"]
    assert [r.request.quality for r in job.rows] == ["low", "low", "low", "high"]  # a row's own setting wins
    assert {r.request.size for r in job.rows} == {"1536x1024"}
    assert all(r.request.safety_identifier == "abc" for r in job.rows)
    assert "abc" not in json.dumps(spec.stored_row(job.rows[0]))
    with pytest.raises(ValidationError, match="'name: value'"):
        job_from({"prompts": "a fox", "settings": "quality high"})
