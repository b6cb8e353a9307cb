"""Making a job: a list of validated requests, from prompt lists, files, templates and compare axes.

A job is what a person asks for in one go: many prompts (one per line, or a CSV
or JSONL file with settings per row), a template whose ``{a|b}`` alternatives
and ``{name}`` lists expand into every combination, and compare axes (model,
quality, size, style, background, output format, seed) crossed with every
prompt. Each row is checked by :func:`dalle3.params.validate`, the same rule
as a single click, before anything runs; the job says how many requests it is
and what it should cost now and as a Batch (half price).

A job of edits (:func:`dalle3.jobs.edit_job.with_edit`) applies the same reference images, and
optionally a mask, to every row: each row is an edit with its own prompt and
settings, checked and prepared by :mod:`dalle3.edits.inputs` as a single edit is.
"""

from __future__ import annotations

import csv
import io
import itertools
import json
import re
from dataclasses import dataclass
from typing import Any, Iterable, Mapping, Sequence

from dalle3.models import pricing
from dalle3.errors import ValidationError
from dalle3.models.table import BATCH_PRICE_FACTOR
from dalle3.edits.inputs import EditInputs
from dalle3.params import GenerationRequest, profile_for, validate

GENERATIONS = "/v1/images/generations"
EDITS = "/v1/images/edits"
MAX_REQUESTS = 10_000  # one job; the Batch API itself takes up to 50,000 rows per file
MAX_JOB_TEXT = 8 * 1024 * 1024  # a prompt list or file pasted or uploaded, before it is parsed
AXES = ("model", "quality", "size", "style", "background", "output_format", "seed")
_FIELDS = ("prompt", "seed", "quality", "style", "size", "model", "output_format", "output_compression", "n")
_TOKEN = re.compile(r"\{([^{}]*)\}")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,31}")


@dataclass(frozen=True)
class JobRow:
    """One request of a job; ``custom_id`` names it in a Batch's files, ``labels`` are its axis values."""

    custom_id: str
    request: GenerationRequest
    labels: tuple[tuple[str, str], ...] = ()


def stored_row(row: JobRow) -> dict[str, Any]:
    """A row as a job keeps it (``rows.jsonl``): its id, its parameters (never a key or identifier), its labels."""
    return {"custom_id": row.custom_id, "parameters": row.request.parameters(),
            "labels": [list(pair) for pair in row.labels]}


def endpoint(job: Job) -> str:
    """The API path every row of ``job`` goes to (a Batch's ``endpoint``)."""
    return EDITS if job.edit is not None else GENERATIONS


@dataclass(frozen=True)
class Estimate:
    """What a job should cost before it runs (USD): now, as a Batch, and the most a Batch may bill."""

    now_usd: float
    batch_usd: float
    batch_worst_usd: float
    now_worst_usd: float
    exact: bool  # every row's price is a flat per-image price (DALL·E), not a token estimate
    unknown: int = 0  # rows the table cannot price (quality auto)


@dataclass(frozen=True)
class Job:
    """A validated list of requests; ``axes`` names the compare axes (empty for a plain list).

    ``edit``: the prepared references (and mask) every row edits; None for a job of generations.
    """

    rows: tuple[JobRow, ...]
    axes: tuple[str, ...] = ()
    edit: EditInputs | None = None

    @property
    def count(self) -> int:
        return len(self.rows)

    @property
    def images(self) -> int:
        return sum(row.request.n for row in self.rows)

    def estimate(self) -> Estimate:
        """Each row as a click would be priced; a job of edits adds its references' input tokens to every row."""
        now = worst = 0.0
        exact, unknown = True, 0
        tokens = self.edit.input_tokens() if self.edit is not None else 0
        for row in self.rows:
            request = row.request
            profile = profile_for(request.model)
            price = pricing.estimate(profile, request.quality, request.size)
            if price is None:
                unknown += 1
            else:
                now += price.usd * request.n + pricing.input_cost(profile, tokens)
                exact = exact and not price.estimate and not tokens
            worst += pricing.worst_case(profile, request.quality, request.size, request.prompt, request.n, tokens)
        return Estimate(now_usd=now, batch_usd=now * BATCH_PRICE_FACTOR, batch_worst_usd=worst * BATCH_PRICE_FACTOR,
                        now_worst_usd=worst, exact=exact and not unknown, unknown=unknown)


def prompt_lines(text: str) -> list[dict[str, Any]]:
    """One prompt per line; blank lines and lines starting with ``#`` are skipped."""
    _bounded(text)
    return [{"prompt": line.strip()} for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]


def csv_rows(text: str) -> list[dict[str, Any]]:
    """A CSV with a header row naming ``prompt`` and any settings (model, quality, size, seed...)."""
    _bounded(text)
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    if not reader.fieldnames or "prompt" not in [f.strip().lower() for f in reader.fieldnames]:
        raise ValidationError("The CSV needs a header row with a 'prompt' column (and optionally model, quality, "
                              "size, style, seed, background, output_format...).")
    rows = []
    for line, row in enumerate(reader, start=2):
        if None in row:
            raise ValidationError(f"CSV line {line} has more values than the header has columns.")
        rows.append({(k or "").strip().lower(): (v or "").strip() for k, v in row.items()})
    return rows


def jsonl_rows(text: str) -> list[dict[str, Any]]:
    """One JSON object per line: ``{"prompt": "...", "model": "...", ...}``."""
    _bounded(text)
    rows = []
    for line, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        try:
            row = json.loads(raw)
        except ValueError:
            raise ValidationError(f"JSONL line {line} is not valid JSON.") from None
        if not isinstance(row, dict):
            raise ValidationError(f"JSONL line {line} must be an object such as {{\"prompt\": \"a fox\"}}.")
        rows.append(row)
    return rows


def rows_from_file(name: str, text: str) -> list[dict[str, Any]]:
    """Rows from a file by its name: ``.csv``, ``.jsonl``/``.ndjson``, or one prompt per line."""
    lower = name.lower()
    if lower.endswith(".csv"):
        return csv_rows(text)
    if lower.endswith((".jsonl", ".ndjson")):
        return jsonl_rows(text)
    return prompt_lines(text)


def named_lists(text: str) -> dict[str, list[str]]:
    """``name: a | b | c`` per line -> {name: [a, b, c]} for ``{name}`` in a template."""
    lists: dict[str, list[str]] = {}
    for line in text.splitlines():
        if not line.strip():
            continue
        name, sep, values = line.partition(":")
        name = name.strip()
        if not sep or not _NAME.fullmatch(name):
            raise ValidationError(f"Write each list as 'name: a | b | c'; {line.strip()[:40]!r} is not.")
        lists[name] = [v.strip() for v in values.split("|") if v.strip()]
        if not lists[name]:
            raise ValidationError(f"The list {name!r} has no values.")
    return lists


def expand_template(template: str, lists: Mapping[str, Sequence[str]] | None = None,
                    limit: int = MAX_REQUESTS) -> list[str]:
    """Every prompt ``template`` stands for: ``{a|b}`` picks each alternative, ``{name}`` each value of a list.

    Combinations are counted before they are made, so a template of millions is refused at once.
    """
    lists = lists or {}
    parts: list[str | list[str]] = []
    position = 0
    for match in _TOKEN.finditer(template):
        parts.append(template[position:match.start()])
        inner = match.group(1)
        if "|" in inner:
            parts.append([choice.strip() for choice in inner.split("|")])
        elif inner.strip() in lists:
            parts.append(list(lists[inner.strip()]))
        else:
            raise ValidationError(f"{{{inner}}} in the template is neither alternatives like {{red|blue}} nor the "
                                  f"name of a list ({', '.join(lists) or 'none given'}).")
        position = match.end()
    parts.append(template[position:])
    choices = [part for part in parts if isinstance(part, list)]
    total = 1
    for options in choices:
        total *= len(options)
    if total > limit:
        raise ValidationError(f"The template makes {total:,} prompts; a job takes at most {limit:,}.")
    prompts = []
    for picked in itertools.product(*choices):
        chosen = iter(picked)
        prompts.append(" ".join("".join(p if isinstance(p, str) else next(chosen) for p in parts).split()))
    return prompts


def parse_axes(text: str) -> dict[str, list[str]]:
    """``quality: low | high`` per line (or ``quality=low,high``) -> {axis: values}, axes from :data:`AXES`."""
    axes: dict[str, list[str]] = {}
    for line in text.splitlines():
        if not line.strip():
            continue
        name, sep, values = re.split(r"([:=])", line, maxsplit=1) if re.search(r"[:=]", line) else (line, "", "")
        name = name.strip().lower().replace(" ", "_")
        if not sep or name not in AXES:
            raise ValidationError(f"A compare axis is one of {', '.join(AXES)}, written 'quality: low | high'; "
                                  f"{line.strip()[:40]!r} is not.")
        axes[name] = [v.strip() for v in re.split(r"[|,]", values) if v.strip()]
        if not axes[name]:
            raise ValidationError(f"The axis {name!r} has no values.")
    return axes


def build_job(rows: Iterable[Mapping[str, Any]], base: Mapping[str, Any] | None = None,
              axes: Mapping[str, Sequence[str]] | None = None, limit: int = MAX_REQUESTS) -> Job:
    """Every row × every combination of ``axes``, over ``base`` settings, each validated as a click is.

    A row's own settings beat ``base``; an axis value beats both. A problem names the row.
    """
    rows = list(rows)
    axes = {name: list(values) for name, values in (axes or {}).items() if values}
    combos = list(itertools.product(*axes.values())) if axes else [()]
    total = len(rows) * len(combos)
    if not rows:
        raise ValidationError("The job has no prompts: write at least one.")
    if total > limit:
        raise ValidationError(f"The job would make {total:,} requests; at most {limit:,} are allowed in one job.")
    made: list[Any] = []
    for number, row in enumerate(rows, start=1):
        for combo in combos:
            labels = tuple(zip(axes, combo))
            raw = {**(base or {}), **{k: v for k, v in row.items() if v not in (None, "")}, **dict(labels)}
            try:
                request = request_from(raw)
            except ValidationError as exc:
                where = f"Row {number}" + (f" ({', '.join(f'{k} {v}' for k, v in labels)})" if labels else "")
                raise ValidationError(f"{where}: {exc.user_message}") from None
            made.append(JobRow(f"row-{len(made) + 1:05d}", request, tuple((k, str(v)) for k, v in labels)))
    return Job(tuple(made), tuple(axes))


def request_from(raw: Mapping[str, Any]) -> GenerationRequest:
    """The request a row's settings (or a stored row's parameters) stand for, validated."""
    known = {name: raw.get(name) for name in _FIELDS}
    extras = {name: value for name, value in raw.items() if name not in _FIELDS}
    return validate(known["prompt"], seed=known["seed"] if known["seed"] not in (None, "") else 0,
                    quality=known["quality"], style=known["style"], size=known["size"], model=known["model"],
                    extras=extras, output_format=known["output_format"],
                    output_compression=known["output_compression"], n=known["n"] or 1)


def _bounded(text: str) -> None:
    if len(text) > MAX_JOB_TEXT:
        raise ValidationError(f"The job's text is {len(text) / 2**20:.1f} MB; at most "
                              f"{MAX_JOB_TEXT / 2**20:.0f} MB is read.")


def refusal(job: Job, *, batch: bool, remaining_usd: float | None) -> str | None:
    """Why ``job`` may not start on a capped server key (``remaining_usd`` under the cap), or None.

    A Batch reserves its worst case up front, so that is what must fit; a run-now job reserves
    per request, so its estimate must fit (the cap still stops it request by request).
    """
    if remaining_usd is None:
        return None
    estimate = job.estimate()
    needed = estimate.batch_worst_usd if batch else estimate.now_usd
    if needed <= remaining_usd + 1e-9:
        return None
    what = "As a Batch it may cost up to" if batch else "It should cost about"
    return (f"This job is over the server's spending cap: {what} {pricing.format_usd(needed)}, and "
            f"{pricing.format_usd(max(0.0, remaining_usd))} is left. Make the job smaller, or enter your own "
            "OpenAI API key.")


def summary(job: Job) -> str:
    """``12 requests (12 images) · ≈ $0.480 now · ≈ $0.240 as a Batch (within 24 h)``."""
    e = job.estimate()
    mark = "" if e.exact else "≈ "
    unknown = f" · {e.unknown} not priced (quality auto)" if e.unknown else ""
    edits = f" · each {job.edit.describe()}" if job.edit is not None else ""
    return (f"{job.count:,} request{'s' if job.count != 1 else ''} ({job.images:,} image{'s' if job.images != 1 else ''})"
            f" · {mark}{pricing.format_usd(e.now_usd)} now · {mark}{pricing.format_usd(e.batch_usd)} as a Batch "
            f"(half price, within 24 h){unknown}{edits}")
