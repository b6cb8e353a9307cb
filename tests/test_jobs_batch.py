"""Jobs as OpenAI Batches, against the fake's /files and /batches (checked against the SDK's types)."""

from __future__ import annotations

import json

import pytest
from openai.types import Batch, FileObject

from dalle3.errors import DalleError, PermissionDeniedError, ValidationError
from dalle3.jobs import batch_files, spec
from dalle3.jobs.batch import BatchManager, server_key_allowed
from dalle3.jobs.poll import BatchPoller
from dalle3.jobs.store import JobNotFoundError, JobStore
from dalle3.ledger import LEDGER_NAME, read_ledger
from dalle3.files.metadata import read_parameters
from dalle3.settings import Settings
from dalle3.studio import Studio
from tests.fake_openai import FakeOpenAI, Outcome

KEY = "sk-test-batch-0123456789"
OWN = "sk-visitor-own-key-987654321"


def manager_for(fake: FakeOpenAI, tmp_path, path: str = "", **overrides) -> BatchManager:
    settings = Settings(api_key=KEY, base_url=fake.base_url + path, output_dir=tmp_path, timeout_s=10.0, max_retries=0,
                        **overrides)
    studio = Studio(settings)
    return BatchManager(studio, JobStore(tmp_path))


def compare_job() -> spec.Job:
    return spec.build_job(spec.prompt_lines("a fox\nan owl"), {"model": "gpt-image-2"},
                          spec.parse_axes("quality: low | high"))


def run_to_end(manager: BatchManager, job_id: str, own_key: str | None = None, polls: int = 6):
    record = manager.store.load(job_id)
    for _ in range(polls):
        record = manager.refresh(job_id, own_key)
        if not record.pending:
            return record
    raise AssertionError(f"still {record.status}")


def test_submit_uploads_jsonl_with_a_custom_id_per_row_and_creates_a_24h_batch(fake_api, tmp_path):
    manager = manager_for(fake_api, tmp_path)
    record = manager.submit(compare_job(), server_allowed=True)
    upload = fake_api.batch_api.uploads[0]
    assert upload["purpose"] == "batch" and len(upload["lines"]) == 4
    lines = [json.loads(line) for line in upload["lines"]]
    assert [line["custom_id"] for line in lines] == ["row-00001", "row-00002", "row-00003", "row-00004"]
    assert lines[1]["body"]["quality"] == "high" and lines[1]["url"] == "/v1/images/generations"
    create = fake_api.batch_api.creates[0]
    assert create["completion_window"] == "24h" and create["endpoint"] == "/v1/images/generations"
    assert record.status == "validating" and record.batch_id.startswith("batch_")
    assert KEY not in (tmp_path / ".jobs" / record.id / "job.json").read_text()


def test_fake_answers_follow_the_sdk_types(fake_api, tmp_path):
    manager = manager_for(fake_api, tmp_path)
    record = manager.submit(compare_job(), server_allowed=True)
    run_to_end(manager, record.id)
    for stored in fake_api.batch_api.files.values():
        FileObject.model_validate({k: v for k, v in stored.items() if not k.startswith("_")})
    for batch in fake_api.batch_api.batches.values():
        assert Batch.model_validate({k: v for k, v in batch.items() if not k.startswith("_")}).status == "completed"


def test_completed_batch_saves_each_row_with_its_parameters_matched_by_custom_id(fake_api, tmp_path):
    manager = manager_for(fake_api, tmp_path)
    record = manager.submit(compare_job(), server_allowed=True)
    seen = []
    for _ in range(6):
        seen.append(manager.refresh(record.id).status)
        if seen[-1] == "completed":
            break
    assert seen[:3] == ["in_progress", "finalizing", "completed"]
    final = manager.store.load(record.id)
    assert (final.done, final.failed, final.settled) == (4, 0, True)
    results = {r["custom_id"]: r for r in manager.store.results(record.id)}
    params = read_parameters(results["row-00002"]["paths"][0])  # the output file lists rows in reverse
    assert params["prompt"] == "a fox" and params["quality"] == "high"
    assert params["job_id"] == record.id and params["batch_id"] == record.batch_id
    assert params["cost_usd"] == pytest.approx(results["row-00002"]["cost_usd"])
    assert not (tmp_path / ".jobs" / record.id / "output.jsonl").exists()


def test_batch_bill_is_half_the_usage_price_and_settles_the_reservation(fake_api, tmp_path):
    manager = manager_for(fake_api, tmp_path, max_spend_usd=5.0)
    job = compare_job()
    record = manager.submit(job, server_allowed=True)
    assert record.reserved_usd == pytest.approx(job.estimate().batch_worst_usd)
    assert manager.studio.ledger.remaining == pytest.approx(5.0 - record.reserved_usd)
    final = run_to_end(manager, record.id)
    spent, images = read_ledger(tmp_path / LEDGER_NAME)
    assert images == 4 and spent == pytest.approx(final.spent_usd)
    assert manager.studio.ledger.remaining == pytest.approx(5.0 - spent)
    # the fake bills usage like the real API; at Batch prices that is half the synchronous figure
    assert 0 < final.spent_usd < job.estimate().now_usd


def test_failed_rows_show_their_error_in_plain_words_and_the_others_are_saved(fake_api, tmp_path):
    manager = manager_for(fake_api, tmp_path)
    fake_api.batch_api.outcomes["row-00003"] = Outcome.content_policy()
    record = manager.submit(compare_job(), server_allowed=True)
    final = run_to_end(manager, record.id)
    assert (final.done, final.failed) == (3, 1)
    failed = [r for r in manager.store.results(record.id) if not r["ok"]]
    assert failed[0]["custom_id"] == "row-00003" and "safety system" in failed[0]["error"]


@pytest.mark.parametrize("plan, words", [("expired", "24 hours ran out"), ("cancelled", "cancelled")])
def test_expired_or_cancelled_batch_keeps_what_was_done(fake_api, tmp_path, plan, words):
    manager = manager_for(fake_api, tmp_path)
    fake_api.batch_api.plan = plan
    record = manager.submit(compare_job(), server_allowed=True)
    final = run_to_end(manager, record.id)
    assert final.status == plan and (final.done, final.failed) == (2, 2)
    assert all(words in r["error"] for r in manager.store.results(record.id) if not r["ok"])


def test_cancel_stops_a_pending_batch(fake_api, tmp_path):
    manager = manager_for(fake_api, tmp_path)
    record = manager.submit(compare_job(), server_allowed=True)
    manager.refresh(record.id)  # in_progress
    assert manager.cancel(record.id).status == "cancelling"
    final = run_to_end(manager, record.id)
    assert final.status == "cancelled" and final.settled
    with pytest.raises(ValidationError, match="nothing to cancel"):
        manager.cancel(record.id)


def test_a_batch_openai_refuses_at_validation_is_failed_with_its_reason(fake_api, tmp_path, monkeypatch):
    manager = manager_for(fake_api, tmp_path)
    real = batch_files.write_input
    monkeypatch.setattr(batch_files, "write_input", lambda rows, path, *args, **kwargs:
                        real(rows, path, "/v1/images/edits"))
    record = manager.submit(compare_job(), server_allowed=True)
    final = run_to_end(manager, record.id)
    assert final.status == "failed" and "OpenAI refused the Batch" in final.message
    assert all(not r["ok"] for r in manager.store.results(record.id))


def test_a_restart_resumes_polling_and_holds_the_reservation_again(fake_api, tmp_path):
    first = manager_for(fake_api, tmp_path, max_spend_usd=5.0)
    record = first.submit(compare_job(), server_allowed=True)
    first.refresh(record.id)
    clock = [0.0]
    second = BatchManager(Studio(first.studio.settings), JobStore(tmp_path))
    poller = BatchPoller(second, clock=lambda: clock[0])
    assert [(r.id, r.pending) for r in second.store.all()] == [(record.id, True)]
    second_reserved = second.studio.ledger.remaining
    poller.resume()  # what start() does before its thread polls
    assert second.studio.ledger.remaining == pytest.approx(second_reserved - record.reserved_usd)
    assert [r.status for r in poller.poll_due()] == ["finalizing"]  # due at once after a restart
    assert poller.poll_due() == []  # then not before its pause is over
    for _ in range(5):
        clock[0] += 1000
        poller.poll_due()
    final = second.store.load(record.id)
    assert final.status == "completed" and final.done == 4 and final.settled
    assert second.studio.ledger.remaining == pytest.approx(5.0 - final.spent_usd)


def test_server_key_batches_need_a_login_or_loopback_and_own_key_jobs_are_private(fake_api, tmp_path):
    manager = manager_for(fake_api, tmp_path)
    settings = manager.studio.settings
    assert server_key_allowed(settings, "127.0.0.1") and not server_key_allowed(settings, "0.0.0.0")
    with pytest.raises(PermissionDeniedError, match="need a login"):
        manager.submit(compare_job(), server_allowed=False)
    mine = manager.submit(compare_job(), OWN, server_allowed=False)
    assert fake_api.batch_api.uploads[-1]["token"] == OWN
    assert [r.id for r in manager.visible_jobs(OWN, server_allowed=False)] == [mine.id]
    assert manager.visible_jobs(None, server_allowed=False) == []
    assert manager.visible_jobs("sk-someone-else-000000000", server_allowed=False) == []
    with pytest.raises(JobNotFoundError):
        manager.get(mine.id, None, server_allowed=False)
    assert OWN not in (tmp_path / ".jobs" / mine.id / "job.json").read_text()


def test_own_key_batch_after_a_restart_waits_for_its_key(fake_api, tmp_path):
    manager = manager_for(fake_api, tmp_path)
    mine = manager.submit(compare_job(), OWN, server_allowed=False)
    restarted = BatchManager(Studio(manager.studio.settings), JobStore(tmp_path))
    waiting = restarted.refresh(mine.id)
    assert waiting.pending and "Enter the OpenAI API key" in waiting.message
    assert run_to_end(restarted, mine.id, OWN).status == "completed"


def test_no_batch_api_on_the_endpoint_is_a_plain_message(fake_api, tmp_path):
    manager = manager_for(fake_api, tmp_path, path="/nothing")
    with pytest.raises(DalleError, match="has no Batch API"):
        manager.submit(compare_job(), server_allowed=True)
    assert manager.store.all()[0].status == "failed"


def test_a_stop_half_way_through_the_results_resumes_without_saving_a_row_twice(fake_api, tmp_path, monkeypatch):
    manager = manager_for(fake_api, tmp_path, max_spend_usd=5.0)
    record = manager.submit(compare_job(), server_allowed=True)
    real = manager._result
    calls = []

    def stops_at_the_third_row(line, row, *rest):
        calls.append(line.custom_id)
        if len(calls) == 3:
            raise DalleError("The disk filled up.")  # two rows are saved, then the process stops
        return real(line, row, *rest)

    monkeypatch.setattr(manager, "_result", stops_at_the_third_row)
    with pytest.raises(DalleError):
        for _ in range(4):
            manager.refresh(record.id)
    broken = manager.store.load(record.id)
    assert broken.status == "completed" and not broken.settled
    assert len(list(manager.store.results(record.id))) == 2
    final = manager.refresh(record.id)
    assert final.settled and (final.done, final.failed) == (4, 0)
    assert sorted(r["custom_id"] for r in manager.store.results(record.id)) == [f"row-0000{i}" for i in range(1, 5)]
    images = [p for p in tmp_path.glob("*/*.png") if not p.name.startswith("contact-sheet")]
    assert len(images) == 4 and final.sheet is not None
    assert manager.studio.ledger.remaining == pytest.approx(5.0 - final.spent_usd)


def test_a_job_stopped_while_submitting_is_failed_at_the_next_start_and_its_reservation_freed(fake_api, tmp_path,
                                                                                             monkeypatch):
    manager = manager_for(fake_api, tmp_path, max_spend_usd=5.0)
    monkeypatch.setattr(manager.http, "create", lambda *a, **k: (_ for _ in ()).throw(KeyboardInterrupt()))
    with pytest.raises(KeyboardInterrupt):
        manager.submit(compare_job(), server_allowed=True)
    restarted = BatchManager(Studio(manager.studio.settings), JobStore(tmp_path))
    assert restarted.resume() == []
    record = restarted.store.all()[0]
    assert record.status == "failed" and "while this Batch was being submitted" in record.message
    assert restarted.studio.ledger.remaining == pytest.approx(5.0)
