"""A job of edits: the same references (and mask) applied to every row of a job.

Its inputs are checked by the rules a single edit follows (:mod:`dalle3.edits.inputs`
owns them) and prepared once. Run now, each row is a single edit. As a Batch, the rows
go to ``/v1/images/edits`` as JSON bodies naming the files by id: each distinct
reference and the mask are uploaded once (``POST /files``, ``purpose=user_data``)
before the JSONL is written. Inline base64 data URLs (``image_url``) would repeat every
reference in every row: a Batch's input file may be at most 200 MB, which a few hundred
rows of one 2 MB photo (2.7 MB as base64) already pass.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Callable, Sequence

from dalle3.edits.inputs import EditInputs, check_rules, prepare_edit, safe_name
from dalle3.edits.references import Reference
from dalle3.jobs.batch_http import BatchHttp
from dalle3.jobs.spec import Job
from dalle3.params import for_edit, profile_for


def with_edit(job: Job, images: Sequence[bytes], *, mask: bytes | None = None, names: Sequence[str] = (),
              before_decoding: Callable[[tuple[tuple[int, int], ...]], None] | None = None) -> Job:
    """``job`` as a job of edits: every row edits ``images`` (and ``mask``, on the first).

    Every model of the job must be able to edit, by the rule a single edit follows
    (:func:`dalle3.edits.inputs.check_rules`); then the files are checked (pixels from the
    headers first, ``before_decoding`` called with their sizes) and prepared once, as
    :func:`dalle3.edits.inputs.prepare_edit` prepares a single edit's. Raises ValidationError.
    """
    models = list(dict.fromkeys(row.request.model for row in job.rows))
    for model in models:
        check_rules(profile_for(model), len(images), mask=mask is not None)
    inputs = prepare_edit(profile_for(models[0]), images, mask=mask, names=names, before_decoding=before_decoding)
    rows = tuple(replace(row, request=for_edit(row.request)) for row in job.rows)
    return replace(job, rows=rows, edit=inputs)


def stored(inputs: EditInputs | None) -> dict[str, Any] | None:
    """What a job's record keeps of its edit inputs: each image's recorded references and their input tokens."""
    if inputs is None:
        return None
    return {"parameters": inputs.parameters(), "input_tokens": inputs.input_tokens(), "files": {}}


def upload_name(reference: Reference, name: str = "") -> str:
    """The name a reference is uploaded under: its own file name (plain characters) with the extension of
    what is sent (a reference scaled down or converted may have changed type)."""
    extension = reference.filename.rsplit(".", 1)[1]
    stem = safe_name(name).rsplit(".", 1)[0].strip() if name else ""
    return f"{stem}.{extension}" if stem else reference.filename


def upload(http: BatchHttp, inputs: EditInputs, key: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Upload each distinct reference and the mask once; return the parts every row's body carries
    (``images`` and ``mask`` by file id) and the ids to keep (``{"images": {sha256: id}, "mask": id}``)."""
    ids: dict[str, str] = {}
    names = [*inputs.names, *[""] * len(inputs.images)]  # a name is known only for some references
    for ref, name in zip(inputs.images, names):
        if ref.sha256 not in ids:
            ids[ref.sha256] = http.upload_input(upload_name(ref, name), ref.data, ref.mime, key)["id"]
    files: dict[str, Any] = {"images": [{"file_id": ids[ref.sha256]} for ref in inputs.images]}
    mask_id = None
    if inputs.mask is not None:
        mask_id = http.upload_input("mask.png", inputs.mask.data, inputs.mask.mime, key)["id"]
        files["mask"] = {"file_id": mask_id}
    return files, {"images": ids, "mask": mask_id}
