"""What ``python -m dalle3`` does and prints: plain text for a terminal.

``__main__`` only parses arguments; the work and the wording live here, as
functions that return text, so tests and the README can use them without a
subprocess (the model table's text lives in :mod:`dalle3.models.text`). :func:`instead_command` turns a
"model not offered" answer into the exact command to run on its successor.
"""

from __future__ import annotations

import json
import shlex
import sys
from pathlib import Path
from typing import Any, Callable, Mapping, NamedTuple, TextIO

from dalle3.http.client import ImagesClient
from dalle3.errors import DalleError, UnexpectedError, ValidationError
from dalle3.files.metadata import file_size_text, read_parameters
from dalle3.models.text import models_text
from dalle3.models import closest_quality_and_size, resolve, shown_name
from dalle3.models.edit_rules import rules_for
from dalle3.models import ModelProfile
from dalle3.params import GenerationRequest
from dalle3.run import EditSources, checked_request, run_request
from dalle3.settings import Settings
from dalle3.files.storage import atomic_replace, atomic_write_new, slug
from dalle3.results import GenerationResult, Preview
from dalle3.studio import Studio
from dalle3.views.status import UNEXPECTED, one_line

LISTING_TIMEOUT_S = 10.0


def generation_text(result: GenerationResult, written: Path | None = None) -> str:
    """Revised prompt, cost and where the PNG is, one fact a line."""
    req = result.request
    head = f"{shown_name(req.model)} · {req.size} · {req.quality}" + (f" · {req.style}" if req.style else "")
    head += f" · {req.n} images" if req.n > 1 else ""
    lines = [head]
    if result.inputs is not None:
        lines.append(result.inputs.describe().capitalize() + ".")
    if result.simulated:
        lines.append("Offline simulator: no API call was made and nothing was charged.")
    if result.revised_prompt:  # text from the API: no escape sequences reach the terminal
        lines.append(f"Revised prompt: {one_line(result.revised_prompt)}")
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


class GenerateOptions(NamedTuple):
    """What was asked on the command line for one call (None: not given, the model's default).

    Its fields are the raw values the page's generate path checks (:func:`dalle3.run.checked_request`),
    and what the "run instead" hint carries over.
    """

    prompt: str
    model: str
    seed: int = 0
    quality: str | None = None
    style: str | None = None
    size: str | None = None
    extras: Mapping[str, str | None] = {}
    output: Path | None = None
    n: int = 1
    previews: int | None = None  # None: the default (1)
    save_partials: Path | None = None
    output_format: str | None = None
    output_compression: int | None = None
    offline: bool = False
    images: tuple[Path, ...] = ()  # an edit's references: the command is then ``edit``
    mask: Path | None = None
    markup: Path | None = None
    input_fidelity: str | None = None
    model_named: bool = True  # False: no --model, the configured default (its successor where it is not offered)


def preview_line(preview: Preview, saved: Path | None = None) -> str:
    """``preview 2 of 3 · 41 s`` (and where it was saved)."""
    return f"{preview.label} · saved {saved}" if saved else preview.label


def _preview_printer(request: GenerationRequest, save_partials: Path | None,
                     progress: TextIO) -> Callable[[Preview], None]:
    """A line on ``progress`` for each preview; with ``save_partials``, the preview saved there too."""

    def show(preview: Preview) -> None:
        saved, line = None, ""
        if save_partials is not None:
            try:
                saved = atomic_write_new(save_partials, f"{slug(request.prompt)}_seed{request.seed}_preview"
                                         f"{preview.number}", preview.image)
            except OSError as exc:  # a preview is a nicety: say so and let the image come
                line = f" · could not save it in {save_partials}: {exc.strerror or exc}"
        print(preview_line(preview, saved) + line, file=progress, flush=True)

    return show


def generate(studio: Studio, asked: GenerateOptions, progress: TextIO | None = None) -> str:
    """Make the image, or the edit when ``asked`` names images, through the page's generate path
    (:mod:`dalle3.run`); with ``asked.output``, copy the saved file(s) there byte for byte.

    With previews, a model that streams sends rough images first: a line for each goes to
    ``progress`` (stderr) as it arrives, and with ``save_partials`` each is saved there too.
    Raises the DalleError to print.
    """
    request = checked_request(asked._asdict(), asked.extras, model_named=asked.model_named)
    edit = EditSources(asked.images, asked.mask, asked.markup, asked.input_fidelity) if asked.images else None
    previews = 0 if edit else (1 if asked.previews is None else asked.previews)
    progress = progress or sys.stderr
    if previews and studio.streams(request):
        print(f"waiting for {previews} preview{'s' if previews > 1 else ''} and the image…", file=progress, flush=True)
    show = _preview_printer(request, asked.save_partials, progress)
    for outcome in run_request(studio, request, previews=previews, edit=edit, min_interval_s=0):
        if isinstance(outcome, DalleError):
            raise outcome
        if isinstance(outcome, GenerationResult):
            if asked.output is not None:
                _write_copies(outcome, asked.output)
            return generation_text(outcome, asked.output)
        show(outcome)
    raise UnexpectedError(UNEXPECTED)  # not reached: the path ends with the result or an error


def _carried(asked: GenerateOptions, target: ModelProfile) -> list[str]:
    """Every option given, as command-line words (defaults stay defaults); extras and input fidelity
    only where the target takes them, as a style is dropped."""
    flags: list[str] = []
    for name, extra in asked.extras.items():
        if extra and extra in target.extras.get(name, ()):
            flags += [f"--{name}", extra]
    fidelity = asked.input_fidelity if asked.input_fidelity in rules_for(target).input_fidelity else None
    given: tuple[tuple[str, object], ...] = (
        ("-n", asked.n if asked.n != 1 else None), ("--previews", asked.previews),
        ("--save-partials", asked.save_partials), ("--output-format", asked.output_format),
        ("--output-compression", asked.output_compression), ("--mask", asked.mask), ("--markup", asked.markup),
        ("--input-fidelity", fidelity), ("-o", asked.output))
    for flag, value in given:
        if value is not None:
            flags += [flag, str(value)]
    return flags + (["--offline"] if asked.offline else [])


def instead_command(asked: GenerateOptions, successor: str, commands: tuple[str, ...] = ()) -> str | None:
    """The command that asks ``successor`` for the same image: closest quality and size, no style.

    Only what the person gave is carried over (a default stays a default), every option
    included; style has no counterpart on GPT Image models, so ``--style`` is dropped. The
    prompt is quoted for a POSIX shell; one that looks like an option or a command name comes
    after ``generate ... --``. An edit keeps its images and ``edit``. None when the successor
    is not in the table.
    """
    target, old = resolve(successor), resolve(asked.model)
    if target is None:
        return None
    quality, size = closest_quality_and_size(target, asked.quality or (old.default_quality if old else ""),
                                     asked.size or (old.default_size if old else target.default_size))
    flags = ["--model", successor]
    if asked.quality is not None:
        flags += ["--quality", quality]
    if asked.size is not None:
        flags += ["--size", size]
    if asked.seed:
        flags += ["--seed", str(asked.seed)]
    flags += _carried(asked, target)
    head = ["python", "-m", "dalle3"]
    if asked.images:  # edit: options may sit between the images and the prompt; "--" keeps any prompt a prompt
        return shlex.join([*head, "edit", *map(str, asked.images), *flags, "--", asked.prompt])
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
