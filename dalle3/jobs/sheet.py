"""The contact sheet of a compare job: every result in a labelled grid, in one PNG.

Columns are the values of the job's last axis; each row is one prompt with one
combination of the other axes. Under each cell: its axis values, its cost and
its seconds; a failed cell says so. The sheet carries the job's parameters
inside, like every image made here (:mod:`dalle3.files.metadata`), and is saved
beside the images.
"""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

from PIL import Image, ImageDraw, ImageFont

from dalle3.files import metadata
from dalle3.jobs.store import JobRecord, JobStore
from dalle3.files.storage import save_image
from dalle3.version import __version__

CELL = 256
LABEL_LINES = 3
LINE_H = 14
PAD = 8
MAX_CELLS = 400  # beyond this a sheet is too large to read; the images are in the folder


@dataclass(frozen=True)
class Cell:
    """One result of a compare job as the sheet shows it."""

    prompt: str
    labels: tuple[tuple[str, str], ...]
    path: Path | None  # None: the request failed or was stopped
    cost_usd: float = 0.0
    seconds: float = 0.0
    note: str = ""


def _grid(cells: Sequence[Cell], axes: Sequence[str]) -> tuple[list[str], list[tuple[Any, ...]]]:
    """Column values (the last axis) and row keys (prompt + the other axes), in first-seen order."""
    last = axes[-1] if axes else None
    columns = list(dict.fromkeys(dict(c.labels).get(last, "") for c in cells)) if last else [""]
    rows = list(dict.fromkeys((c.prompt, *(v for k, v in c.labels if k != last)) for c in cells))
    return columns, rows


def render(cells: Sequence[Cell], axes: Sequence[str]) -> bytes:
    """The sheet as PNG bytes (no parameters yet)."""
    columns, rows = _grid(cells, axes)
    last = axes[-1] if axes else None
    font = ImageFont.load_default()
    label_h = LABEL_LINES * LINE_H + PAD
    width = PAD + len(columns) * (CELL + PAD)
    height = PAD + LINE_H + PAD + len(rows) * (CELL + label_h + PAD)
    sheet = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(sheet)
    for col, value in enumerate(columns):
        draw.text((PAD + col * (CELL + PAD), PAD), f"{last}: {value}"[:40] if last else "", fill="black", font=font)
    index = {(c.prompt, *(v for k, v in c.labels if k != last), dict(c.labels).get(last, "") if last else ""): c
             for c in cells}
    for r, key in enumerate(rows):
        top = PAD + LINE_H + PAD + r * (CELL + label_h + PAD)
        for col, value in enumerate(columns):
            left = PAD + col * (CELL + PAD)
            cell = index.get((*key, value if last else ""))
            if cell is None:
                continue
            _paste(sheet, draw, cell, left, top)
            text = [cell.prompt[:40], ", ".join(f"{k} {v}" for k, v in cell.labels if k != last)[:40],
                    cell.note[:40] if cell.path is None else f"${cell.cost_usd:.3f} · {cell.seconds:.1f} s"]
            for i, line in enumerate(text):
                draw.text((left, top + CELL + 2 + i * LINE_H), line, fill="black", font=font)
    out = io.BytesIO()
    sheet.save(out, format="PNG", optimize=False)
    return out.getvalue()


def _paste(sheet: Image.Image, draw: ImageDraw.ImageDraw, cell: Cell, left: int, top: int) -> None:
    if cell.path is None:
        draw.rectangle((left, top, left + CELL - 1, top + CELL - 1), outline="#c00", width=2)
        return
    try:
        with Image.open(cell.path) as image:
            image.draft("RGB", (CELL, CELL))  # a JPEG decodes small at once
            image.thumbnail((CELL, CELL))
            thumb = image.convert("RGB")
    except (OSError, ValueError, Image.DecompressionBombError):
        draw.rectangle((left, top, left + CELL - 1, top + CELL - 1), outline="#999", width=2)
        return
    sheet.paste(thumb, (left + (CELL - thumb.width) // 2, top + (CELL - thumb.height) // 2))


def save_sheet(cells: Sequence[Cell], axes: Sequence[str], job_id: str, output_dir: Path) -> Path | None:
    """Render, embed the job's parameters, save under the outputs folder; None when there is nothing to show."""
    if not cells or len(cells) > MAX_CELLS:
        return None
    prompts = list(dict.fromkeys(c.prompt for c in cells))
    parameters = {
        "prompt": " / ".join(prompts)[:4000],  # what a reader of parameters looks for first
        "kind": "contact_sheet", "job_id": job_id, "axes": list(axes),
        "cells": [{"prompt": c.prompt, "labels": dict(c.labels), "file": c.path.name if c.path else None,
                   "cost_usd": round(c.cost_usd, 6), "seconds": round(c.seconds, 2), "note": c.note}
                  for c in cells],
        "cost_usd": round(sum(c.cost_usd for c in cells), 6),
        "created": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "app": f"dalle3-studio {__version__}",
    }
    data = metadata.embed(render(cells, axes), parameters)
    return save_image(data, output_dir, f"contact sheet {cells[0].prompt}", 0)


def sheet_for_job(store: JobStore, record: JobRecord, output_dir: Path) -> Path | None:
    """The sheet of a compare job from its kept rows and results (run now or Batch alike)."""
    if not record.axes:
        return None
    results = {r.get("custom_id"): r for r in store.results(record.id)}
    cells = []
    for row in store.rows(record.id):
        result = results.get(row["custom_id"]) or {}
        paths = result.get("paths") or []
        note = "stopped" if result.get("stopped") else ("failed" if result else "not run")
        cells.append(Cell(prompt=str(row["parameters"].get("prompt", "")),
                          labels=tuple((str(k), str(v)) for k, v in row.get("labels") or []),
                          path=Path(paths[0]) if result.get("ok") and paths else None,
                          cost_usd=float(result.get("cost_usd") or 0.0), seconds=float(result.get("seconds") or 0.0),
                          note=note))
    return save_sheet(cells, record.axes, record.id, output_dir)
