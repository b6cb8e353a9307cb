"""``python -m dalle3 "a prompt"``: parse the arguments and call the library.

Commands are the first word: ``generate`` (the default, so ``python -m dalle3
"a prompt"`` is ``python -m dalle3 generate "a prompt"``) and ``edit``. A new
command is one entry in :data:`COMMANDS`: its parser, and a function that runs
it and returns the text to print. Each command has its own parser rather than
an argparse subparser, because ``edit`` takes options between its images and
its prompt (``parse_intermixed_args``, which subparsers do not support).
Settings come from the same environment variables (and ``.env``) as the page.
Exit codes: 0 done, 1 the API, the inputs or the configuration said no (the
reason is printed to stderr), 2 the command line itself is wrong.
"""

from __future__ import annotations

import argparse
import logging
import sys
from dataclasses import replace
from pathlib import Path
from typing import Callable, NamedTuple

from dalle3 import DalleError, Studio, cli, from_env
from dalle3.library import cli as library_cli, view as library_view
from dalle3.chat import cli as chat_cli
from dalle3.models.edit_rules import rules_for
from dalle3.models.edit_rules import MAX_REFERENCES
from dalle3.errors import ModelUnavailableError
from dalle3.jobs import cli as jobs_cli
from dalle3.models import ALL_QUALITIES, ALL_SIZES, ALL_STYLES, GPT_IMAGE_2, MODELS, OUTPUT_FORMATS
from dalle3.params import DEFAULT_MODEL, SEED_MAX, profile_for

GPT_IMAGE_26 = MODELS["gpt-image-2.6-flare"]  # has every extra setting


def _request_options(p: argparse.ArgumentParser) -> None:
    """The options a generation and an edit share."""
    p.add_argument("-n", type=int, default=1, metavar="N",
                   help="images per call: 1 to 10 on GPT Image models, 1 on dall-e-3; each is saved (default: 1)")


def edit_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m dalle3 edit",
        description=f"Edit images with a GPT Image model: up to {MAX_REFERENCES} reference images, a mask (transparent, or "
                    "painted white, where the first image may change) or a markup (strokes on a transparent PNG, "
                    "GPT Image 2.5 and later). Inputs are checked and scaled down before the call; without an "
                    "API key the offline simulator edits.",
        epilog="Example: python -m dalle3 edit photo.jpg --mask sky.png -n 4 \"a stormy sky\"")
    p.add_argument("images", nargs="+", type=Path, metavar="IMAGE", help="reference images; the first is edited")
    p.add_argument("prompt", help="what to change")
    p.add_argument("--mask", type=Path, metavar="M", help="a PNG the size (or shape) of the first image")
    p.add_argument("--markup", type=Path, metavar="K", help="a transparent PNG of strokes on the first image")
    p.add_argument("--input-fidelity", metavar="F", help="high or low, on models that take it (gpt-image-1.5)")
    _request_options(p)
    p.add_argument("--seed", type=int, default=0, help="stored in the PNG, not sent (default: 0)")
    p.add_argument("--quality", metavar="Q", help="low, medium, high or auto (default: medium)")
    p.add_argument("--size", metavar="WxH", help="a preset, auto, or WIDTHxHEIGHT (default: 1024x1024)")
    p.add_argument("--model", metavar="M", help="a GPT Image model (default: DALLE3_MODEL if it edits, "
                   "else gpt-image-2)")
    p.add_argument("--background", metavar="V", help="auto, opaque or transparent")
    p.add_argument("-o", "--output", type=Path, metavar="FILE", help="also write the PNG(s) there")
    p.add_argument("--offline", action="store_true", help="use the offline simulator even when a key is set")
    return p


def run_edit(args: argparse.Namespace) -> str:
    settings = from_env()
    if args.offline:
        settings = replace(settings, offline=True)
    model = args.model or (settings.default_model if rules_for(profile_for(settings.default_model)).edits
                           else GPT_IMAGE_2.id)
    return cli.generate(Studio(settings), _asked(args, model))


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m dalle3 [generate]",
        description="Generate one image with OpenAI's DALL·E 3 or a GPT Image model, save it as a PNG with "
                    "its settings embedded, and print the revised prompt, cost and path. Without an API key "
                    "(OPENAI_API_KEY, or .env) the offline simulator draws a stand-in.",
        epilog="Edit images: python -m dalle3 edit IMAGE... [--mask M] [-n N] PROMPT (see edit --help). Many at once: "
               "python -m dalle3 batch submit ... (see batch --help). A prompt "
               "that is a command's name or starts with '-' goes after generate and --. "
               "Environment: OPENAI_API_KEY, OPENAI_BASE_URL, DALLE3_OUTPUT_DIR, DALLE3_MODEL, DALLE3_OFFLINE, "
               "DALLE3_TIMEOUT_S, DALLE3_MAX_RETRIES, DALLE3_MAX_SPEND_USD. Exit codes: 0 done, "
               "1 refused (reason on stderr), 2 bad command line.")
    p.add_argument("prompt", nargs="?", help="what to draw")
    p.add_argument("--seed", type=int, default=0,
                   help=f"0 to {SEED_MAX}; not sent to OpenAI, stored in the PNG; a new seed makes a new image "
                        "(default: 0)")
    p.add_argument("--quality", metavar="Q", help=f"one of {', '.join(ALL_QUALITIES)}, as the model allows "
                   "(default: the model's: standard for dall-e-3, medium for GPT Image)")
    p.add_argument("--style", metavar="S", help=f"dall-e-3 only: {', '.join(ALL_STYLES)} (default: natural)")
    p.add_argument("--size", metavar="WxH", help=f"{', '.join(ALL_SIZES)}, or WIDTHxHEIGHT for GPT Image models "
                   "(default: 1024x1024)")
    p.add_argument("--model", metavar="M", help=f"{', '.join(MODELS)} or another id of those families "
                   f"(default: DALLE3_MODEL, else {DEFAULT_MODEL}; where the endpoint does not offer it, its "
                   "successor, said on stderr; a model given here is never replaced)")
    for name, allowed in GPT_IMAGE_26.extras.items():
        which = "gpt-image-2.6 models" if name not in GPT_IMAGE_2.extras else "GPT Image models"
        p.add_argument(f"--{name}", metavar="V", help=f"{which} only: {', '.join(allowed)} "
                       f"(default: {GPT_IMAGE_26.extra_defaults[name]})")
    p.add_argument("--previews", type=int, choices=range(0, 4), default=None, metavar="N",
                   help="GPT Image models: rough images to stream while the image is made, 0-3; progress is "
                        "printed to stderr as each arrives (each adds ~100 output tokens, about $0.003 on "
                        "gpt-image-2) (default: 1)")
    p.add_argument("--save-partials", type=Path, metavar="DIR",
                   help="also save each preview image to DIR (never as the result) (default: not saved)")
    p.add_argument("--output-format", metavar="F", choices=OUTPUT_FORMATS,
                   help=f"GPT Image models only: {', '.join(OUTPUT_FORMATS)}; parameters travel in every format "
                        "(default: png; gif and svg need OpenAI preview access and are not offered)")
    p.add_argument("--output-compression", type=int, metavar="0-100",
                   help="jpeg and webp only: OpenAI's compression level (default: the API's, 100)")
    _request_options(p)
    p.add_argument("-o", "--output", type=Path, metavar="FILE",
                   help="also write the PNG (settings embedded) to FILE (default: only the copy in DALLE3_OUTPUT_DIR)")
    p.add_argument("--offline", action="store_true",
                   help="use the offline simulator even when a key is set; no network (default: off)")
    p.add_argument("--read", type=Path, metavar="FILE",
                   help="print the parameters stored in an image made here (PNG, JPEG or WebP) and exit")
    p.add_argument("--list-models", action="store_true",
                   help="print the model table and, with a key, what the endpoint offers; then exit")
    return p


def _asked(args: argparse.Namespace, model: str) -> cli.GenerateOptions:
    """Everything given on the command line, as the "run instead" hint must carry it."""
    extras = {name: getattr(args, name, None) for name in GPT_IMAGE_26.extras}
    common = dict(prompt=args.prompt, model=model, seed=args.seed, quality=args.quality, size=args.size,
                  extras=extras, output=args.output, n=args.n, offline=args.offline)
    if hasattr(args, "images"):  # edit: its model is always named (the configured one only if it edits)
        return cli.GenerateOptions(**common, images=tuple(args.images), mask=args.mask, markup=args.markup,
                                   input_fidelity=args.input_fidelity)
    return cli.GenerateOptions(**common, style=args.style, previews=args.previews, save_partials=args.save_partials,
                               output_format=args.output_format, output_compression=args.output_compression,
                               model_named=args.model is not None)


def run(args: argparse.Namespace) -> str:
    if args.read:
        return cli.parameters_text(args.read)
    settings = from_env()
    if args.offline:
        settings = replace(settings, offline=True)
    if args.list_models:
        return cli.list_models(settings)
    return cli.generate(Studio(settings), _asked(args, args.model or settings.default_model))


def library_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m dalle3 library",
        description="List the images in DALLE3_OUTPUT_DIR made here, newest first: path, date, model, size, cost "
                    "and prompt. The index beside them (.library.sqlite3) is brought up to date first.")
    p.add_argument("words", nargs="*", help="words of the prompt or revised prompt; all must match, a word "
                   "also matches longer ones (fox: foxes)")
    p.add_argument("--model", metavar="M", help="only this model id (default: any)")
    p.add_argument("--size", metavar="WxH", help="only this size (default: any)")
    p.add_argument("--since", metavar="YYYY-MM-DD", help="made on or after this day (local time)")
    p.add_argument("--until", metavar="YYYY-MM-DD", help="made on or before this day (local time)")
    p.add_argument("--limit", type=int, default=50, metavar="N", help="list at most N images (default: 50)")
    p.add_argument("--json", action="store_true", help="print JSON for scripts: {total, images: [...]}")
    return p


def run_library(args: argparse.Namespace) -> str:
    query = library_view.parse_query(" ".join(args.words), args.model, args.size, args.since, args.until,
                                     per_page=max(1, min(args.limit, 10_000)))
    return library_cli.library_text(from_env(), query, args.json)


class Command(NamedTuple):
    """One command: its parser, how it runs, and whether options may sit between its positionals."""

    parser: Callable[[], argparse.ArgumentParser]
    run: Callable[[argparse.Namespace], str]
    intermixed: bool = False


COMMANDS: dict[str, Command] = {
    "generate": Command(parser, run),
    "edit": Command(edit_parser, run_edit, intermixed=True),
    "library": Command(library_parser, run_library),
    "batch": Command(jobs_cli.parser, jobs_cli.run),
    "chat": Command(chat_cli.parser, chat_cli.run),
}


def _instead(name: str, args: argparse.Namespace, exc: DalleError) -> str | None:
    """For a model the endpoint does not offer: the command that asks its successor instead."""
    if not isinstance(exc, ModelUnavailableError) or not exc.successor or name not in ("generate", "edit"):
        return None
    return cli.instead_command(_asked(args, exc.model), exc.successor, tuple(COMMANDS))


def _say_warnings() -> None:
    """The library's warnings (a model replaced by its successor, a failed listing) as ``dalle3: ...`` lines."""
    logger = logging.getLogger("dalle3")
    if not logger.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("dalle3: %(message)s"))
        logger.addHandler(handler)
        logger.setLevel(logging.WARNING)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    named = bool(argv) and argv[0] in COMMANDS  # otherwise the default command, generate
    name = argv[0] if named else "generate"
    command = COMMANDS[name]
    p = command.parser()
    args = (p.parse_intermixed_args if command.intermixed else p.parse_args)(argv[1:] if named else argv)
    for stream in (sys.stdout, sys.stderr):  # a cp1252 pipe must not turn "≈" into a traceback
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="replace")
    _say_warnings()
    if name == "generate" and sum((args.prompt is not None, args.read is not None, args.list_models)) != 1:
        p.error("give a prompt, --read PNG or --list-models (exactly one)")
    try:
        print(command.run(args))
    except DalleError as exc:
        print(f"dalle3: {exc.user_message}", file=sys.stderr)
        if details := exc.details():
            print(f"dalle3: ({details})", file=sys.stderr)
        if instead := _instead(name, args, exc):
            print(f"dalle3: run instead: {instead}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
