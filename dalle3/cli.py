"""What ``python -m dalle3`` does and prints: plain text for a terminal.

``__main__`` only parses arguments; the work and the wording live here, as
functions that return text, so tests and the README can use them without a
subprocess. :func:`models_markdown` renders the model table for the README
from the same rows ``--list-models`` prints. :func:`instead_command` turns a
"model not offered" answer into the exact command to run on its successor.
"""

from __future__ import annotations

import json
import re
import shlex
import sys
from pathlib import Path
from typing import Any, Mapping, NamedTuple, TextIO

from dalle3.client import ImagesClient
from dalle3.errors import DalleError, ValidationError
from dalle3.edits import prepare_edit
from dalle3.metadata import file_size_text, read_parameters
from dalle3.models import (COMPRESSION_FORMATS, COMPRESSION_RANGE, MODELS, NOT_OFFERED_FORMATS, TABLE_CHECKED,
                           ModelProfile, closest_settings, display_date, resolve, rule_confidence)
from dalle3.params import GenerationRequest, profile_for
from dalle3.references import read_file
from dalle3.pricing import format_usd
from dalle3.settings import Settings
from dalle3.storage import atomic_replace, atomic_write_new, slug
from dalle3.studio import GenerationResult, Preview, Studio

LISTING_TIMEOUT_S = 10.0
_CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f\x7f]")


class ModelRow(NamedTuple):
    """One model as the table shows it; every field is display text."""

    id: str
    label: str
    lifecycle: str
    successor: str
    qualities: str
    sizes: str
    price: str
    note: str
    endpoint: str = ""
    output: str = ""  # "offered" / "not offered ..." once an endpoint was asked


def generation_text(result: GenerationResult, written: Path | None = None) -> str:
    """Revised prompt, cost and where the PNG is, one fact a line."""
    req = result.request
    head = f"{req.model} · {req.size} · {req.quality}" + (f" · {req.style}" if req.style else "")
    head += f" · {req.n} images" if req.n > 1 else ""
    lines = [head]
    if result.inputs is not None:
        lines.append(result.inputs.describe().capitalize() + ".")
    if result.simulated:
        lines.append("Offline simulator: no API call was made and nothing was charged.")
    if result.revised_prompt:  # text from the API: no escape sequences reach the terminal
        lines.append(f"Revised prompt: {_CONTROL.sub(' ', result.revised_prompt)}")
    lines.append(f"Cost: {'no charge' if result.cost.usd == 0 else result.cost}")
    if result.request_id:
        lines.append(f"Request id: {result.request_id}")
    if result.note:
        lines.append(result.note)
    if result.file_bytes:
        lines.append(f"File: {file_size_text(result.file_bytes)} ({req.output_format or 'png'})")
    lines += [f"Saved: {path}" for path in result.paths]
    lines += [f"Written: {path}" for path in written_paths(written, len(result.paths))] if written else []
    return "\n".join(lines)


def written_paths(out: Path, count: int) -> list[Path]:
    """``-o FILE``: FILE for one image; FILE-1, FILE-2... (same suffix) for a batch."""
    if count == 1:
        return [out]
    return [out.with_name(f"{out.stem}-{i}{out.suffix}") for i in range(1, count + 1)]


def _write_copies(result: GenerationResult, out: Path) -> None:
    for source, target in zip(result.paths, written_paths(out, len(result.paths))):
        try:
            atomic_replace(target, source.read_bytes())
        except OSError as exc:
            raise ValidationError(f"Could not write {target}: {exc.strerror or exc}. "
                                  f"The image is still saved at {source}.") from None


def edit(studio: Studio, request: GenerationRequest, images: list[Path], mask: Path | None = None,
         markup: Path | None = None, input_fidelity: str | None = None, out: Path | None = None) -> str:
    """Read the files, prepare and check them, edit; with ``out``, copy the results there."""
    inputs = prepare_edit(profile_for(request.model), [read_file(p, "image") for p in images],
                          mask=read_file(mask, "mask") if mask else None,
                          markup=read_file(markup, "markup") if markup else None, input_fidelity=input_fidelity)
    result = studio.edit(request, inputs)
    if out is not None:
        _write_copies(result, out)
    return generation_text(result, out)


def preview_line(preview: Preview, saved: Path | None = None) -> str:
    """``preview 2 of 3 · 41 s`` (and where it was saved)."""
    return f"{preview.label} · saved {saved}" if saved else preview.label


def generate(studio: Studio, request: GenerationRequest, out: Path | None = None, previews: int = 0,
             save_partials: Path | None = None, progress: TextIO | None = None) -> str:
    """Make the image; with ``out``, copy the saved PNG (settings embedded) there byte for byte.

    With ``previews``, a model that streams sends rough images first: a line for each goes to
    ``progress`` (stderr) as it arrives, and with ``save_partials`` each is saved there too.
    """
    progress = progress or sys.stderr

    def show(preview: Preview) -> None:
        saved, line = None, ""
        if save_partials is not None:
            try:
                saved = atomic_write_new(save_partials, f"{slug(request.prompt)}_seed{request.seed}_preview"
                                         f"{preview.number}", preview.path.read_bytes())
            except OSError as exc:  # a preview is a nicety: say so and let the image come
                line = f" · could not save it in {save_partials}: {exc.strerror or exc}"
        print(preview_line(preview, saved) + line, file=progress, flush=True)

    if studio.streams(request) and previews:
        print(f"waiting for {previews} preview{'s' if previews > 1 else ''} and the image…", file=progress, flush=True)
    result = studio.generate(request, previews=previews, on_preview=show)
    if out is not None:
        _write_copies(result, out)
    return generation_text(result, out)


class GenerateOptions(NamedTuple):
    """What was asked on the command line for one image (None: not given, the model's default)."""

    prompt: str
    model: str
    seed: int = 0
    quality: str | None = None
    size: str | None = None
    extras: Mapping[str, str | None] = {}
    output: Path | None = None


def instead_command(asked: GenerateOptions, successor: str, commands: tuple[str, ...] = ()) -> str | None:
    """The command that asks ``successor`` for the same image: closest quality and size, no style.

    Only what the person gave is carried over (a default stays a default); style
    has no counterpart on GPT Image models, so ``--style`` is dropped. The prompt
    is quoted for a POSIX shell; one that looks like an option or a command name
    comes after ``generate ... --``. None when the successor is not in the table.
    """
    target, old = resolve(successor), resolve(asked.model)
    if target is None:
        return None
    quality, size = closest_settings(target, asked.quality or (old.default_quality if old else ""),
                                     asked.size or (old.default_size if old else target.default_size))
    flags = ["--model", successor]
    if asked.quality is not None:
        flags += ["--quality", quality]
    if asked.size is not None:
        flags += ["--size", size]
    if asked.seed:
        flags += ["--seed", str(asked.seed)]
    for name, value in asked.extras.items():
        if value and value in target.extras.get(name, ()):
            flags += [f"--{name}", value]
    if asked.output is not None:
        flags += ["-o", str(asked.output)]
    head = ["python", "-m", "dalle3"]
    if asked.prompt.startswith("-") or asked.prompt in commands:
        return shlex.join([*head, "generate", *flags, "--", asked.prompt])
    return shlex.join([*head, asked.prompt, *flags])


def parameters_text(path: Path) -> str:
    """The settings stored in a PNG as pretty JSON; ValidationError when there are none."""
    if not path.is_file():
        raise ValidationError(f"No such file: {path}.")
    settings = read_parameters(path)
    if settings is None:
        raise ValidationError(f"No dalle3 studio settings found in {path}.")
    return json.dumps(settings, indent=2, ensure_ascii=False)


def _price_range(prices: Mapping[tuple[str, str], float], quality: str) -> str:
    figures = sorted(usd for (q, _), usd in prices.items() if q == quality)
    if not figures:
        return ""
    low, high = format_usd(figures[0]), format_usd(figures[-1])
    return f"{quality} {low}" if low == high else f"{quality} {low}–{high}"


def price_text(profile: ModelProfile) -> str:
    """Per-image figures by quality, and token prices where the bill is by tokens."""
    ranges = "; ".join(filter(None, (_price_range(profile.image_prices, q) for q in profile.qualities)))
    tokens = profile.token_prices
    if profile.billing == "image":
        return f"{ranges} per image"
    text = f"≈ {ranges} per image (estimate)"
    if tokens is None:
        return text + "; token prices unconfirmed"
    return (f"{text}; billed by tokens, per 1M: ${tokens.text_input:g} text in, "
            f"${tokens.image_input:g} image in, ${tokens.image_output:g} image out")


def _unsure(profile: ModelProfile, rule: str) -> str:
    return " (unconfirmed)" if rule_confidence(profile, rule) == "unconfirmed" else ""


def _sizes_text(profile: ModelProfile) -> str:
    text = ", ".join(profile.sizes)
    rule = profile.custom_size
    if rule:
        text += f", or {rule.describe()}"
        text += _unsure(profile, "custom_size")
    return text


def _qualities_text(profile: ModelProfile) -> str:
    extra = [q for q in ("xhigh", "max") if q in profile.qualities]
    if extra and _unsure(profile, "qualities"):
        return ", ".join(profile.qualities) + f" ({' and '.join(extra)} unconfirmed)"
    return ", ".join(profile.qualities)


def output_text(profile: ModelProfile) -> str:
    """Formats, compression, transparency and n for one model, one line."""
    if not profile.output_formats:
        return f"PNG only; n {profile.max_images}"
    low, high = COMPRESSION_RANGE
    text = (f"{', '.join(profile.output_formats)}; compression {low}–{high} for {' and '.join(COMPRESSION_FORMATS)}; "
            f"n 1–{profile.max_images}")
    backgrounds = profile.extras.get("background", ())
    if "transparent" in backgrounds:
        preview = " (preview)" if "transparent" in profile.preview.get("background", ()) else ""
        text += f"; transparent background{preview}{_unsure(profile, 'background')} with png or webp"
    return text


def not_offered_text() -> str:
    return "; ".join(f"{fmt}: {why}" for fmt, why in NOT_OFFERED_FORMATS.items())


def _lifecycle_text(profile: ModelProfile, listed: Mapping[str, Any] | None) -> str:
    shutdown = display_date((listed or {}).get("shutdown_date")) or profile.shutdown
    if profile.lifecycle == "retired":
        return f"retired {profile.shutdown}"
    return f"{profile.lifecycle}, retires {shutdown}" if shutdown else profile.lifecycle


def model_row(profile: ModelProfile, offered: Mapping[str, Mapping[str, Any]] | None = None,
              where: str = "") -> ModelRow:
    """The row for ``profile``; with ``offered`` (an endpoint's listing) it says whether it is there."""
    listed = (offered or {}).get(profile.id)
    endpoint = ""
    if offered is not None:
        endpoint = "offered" if listed is not None else f"not offered by {where or 'this endpoint'}"
    return ModelRow(
        id=profile.id, label=profile.label, lifecycle=_lifecycle_text(profile, listed),
        successor=profile.successor or "", qualities=_qualities_text(profile),
        sizes=_sizes_text(profile), price=price_text(profile), note=profile.note, endpoint=endpoint,
        output=output_text(profile),
    )


def _is_image_model(model_id: str) -> bool:
    return model_id.startswith("dall-e") or "image" in model_id


def other_models_text(offered: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """Image models the endpoint offers that the table lacks, one line each."""
    lines = []
    for model_id in sorted(m for m in offered if m not in MODELS and _is_image_model(m)):
        shutdown = display_date(offered[model_id].get("shutdown_date"))
        when = f", retires {shutdown}" if shutdown else ""
        profile = resolve(model_id)
        how = (f"{profile.note}." if profile else
               "not in the table and of no family it knows: this app cannot drive it.")
        lines.append(f"  {model_id}{when}: {how}")
    return lines


def models_text(offered: Mapping[str, Mapping[str, Any]] | None = None, where: str = "",
                problem: str | None = None) -> str:
    """``--list-models``: the table, a block per model, then what the endpoint offers besides."""
    blocks = []
    for profile in MODELS.values():
        row = model_row(profile, offered, where)
        lines = [f"{row.id} ({row.label})" if row.label != row.id else row.id,
                 f"  status:    {row.lifecycle}" + (f", successor {row.successor}" if row.successor else "")]
        if row.endpoint:
            lines.append(f"  endpoint:  {row.endpoint}")
        lines += [f"  quality:   {row.qualities}", f"  sizes:     {row.sizes}", f"  output:    {row.output}",
                  f"  price:     {row.price}"]
        if row.note:
            lines.append(f"  note:      {row.note}")
        blocks.append("\n".join(lines))
    text = "\n\n".join(blocks) + (f"\n\nNot offered: {not_offered_text()}.\n"
                                  f"Table checked {TABLE_CHECKED}; sources and confidence in dalle3/model_table.py.")
    if problem:
        text += f"\n\n{problem}"
    elif offered is not None:
        others = other_models_text(offered)
        text += (f"\n\nAlso offered by {where or 'this endpoint'}, not in the table:\n" + "\n".join(others)
                 if others else f"\n\n{where or 'The endpoint'} offers no image model beyond the table.")
    return text


def _cell(text: str) -> str:
    return text.replace("|", "\\|") or "—"


def models_markdown() -> str:
    """The model table as Markdown, for the README (no endpoint asked)."""
    head = ["Model", "Status", "Successor", "Quality", "Sizes", "Output", "Price", "Note"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for profile in MODELS.values():
        row = model_row(profile)
        cells = [f"`{row.id}`", row.lifecycle, row.successor and f"`{row.successor}`", row.qualities,
                 row.sizes, row.output, row.price, row.note]
        lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    lines.append("")
    lines.append(f"Not offered: {not_offered_text()}.")
    lines.append("")
    lines.append(f"Checked {TABLE_CHECKED}; each rule's source and confidence is in `dalle3/model_table.py`.")
    return "\n".join(lines)


def list_models(settings: Settings) -> str:
    """The table; when a server key is set and not offline, marked with what the endpoint offers."""
    if settings.simulated:
        return models_text()
    offered, problem = endpoint_listing(ImagesClient(settings), settings.api_key or "")
    return models_text(offered, settings.base_url_shown, problem)


def endpoint_listing(client: ImagesClient, api_key: str) -> tuple[dict[str, dict[str, Any]] | None, str | None]:
    """Every model the endpoint lists for ``api_key`` (by id), or None and why not.

    Unlike the page's discovery this keeps models the app cannot drive, so
    ``--list-models`` can name them; a failure is a note, not an error.
    """
    try:
        listed = client.list_models(api_key, LISTING_TIMEOUT_S)
    except DalleError as exc:
        return None, (f"Could not list the models of {client.settings.base_url_shown}: {exc.user_message} "
                      "The table above is the built-in one.")
    return {str(m["id"]): dict(m) for m in listed}, None
