"""The library: the index beside the images, its reconcile with the folder, searches,
totals, the privacy decision, the page's view values and ``python -m dalle3 library``."""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import shutil
import sqlite3
import threading
from pathlib import Path

import pytest
from PIL import Image

from dalle3 import Settings, Studio, validate
from dalle3.files import metadata
from dalle3.errors import ValidationError
from dalle3.library import Library, LibraryQuery, ReconcileProgress, fts_query, library_access
from dalle3.library.index import INDEX_NAME
from dalle3.files.thumbnails import THUMBS_DIR
from dalle3.library.view import (details, gallery, parse_query, progress_fraction, progress_text, select, show,
                                 summary)
from dalle3.views.studio_view import restore
from dalle3.settings import from_env
from tests.test_cli import run_cli

_SMALL_PNG: bytes | None = None


def small_png() -> bytes:
    global _SMALL_PNG
    if _SMALL_PNG is None:
        buffer = io.BytesIO()
        Image.new("RGB", (8, 8), (200, 80, 40)).save(buffer, "PNG")
        _SMALL_PNG = buffer.getvalue()
    return _SMALL_PNG


def make_image(root: Path, rel: str, prompt: str, created: str = "2026-11-03T10:00:00+00:00", **fields) -> Path:
    """A PNG as the app saves it: our parameters embedded."""
    parameters = {"prompt": prompt, "seed": 1, "model": "dall-e-3", "quality": "standard", "size": "1024x1024",
                  "style": "natural", "backend": "openai", "created": created, "cost_usd": 0.04,
                  "cost_exact": True, **fields}
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(metadata.embed(small_png(), parameters))
    return path


def prompts(library: Library, query: LibraryQuery = LibraryQuery()) -> list[str]:
    return [e.prompt for e in library.search(query).entries]


@pytest.fixture
def library(tmp_path):
    lib = Library(tmp_path)
    yield lib
    lib.close()


# ----- the index and its reconcile with the folder


def test_reconcile_indexes_our_images_newest_first_and_skips_foreign_files(tmp_path, library):
    make_image(tmp_path, "2026-11-01/old.png", "an old lighthouse", created="2026-11-01T08:00:00+00:00")
    make_image(tmp_path, "2026-11-03/new.png", "a new fox", created="2026-11-03T08:00:00+00:00")
    Image.new("RGB", (4, 4)).save(tmp_path / "2026-11-03" / "foreign.png")  # no parameters
    (tmp_path / "2026-11-03" / "notes.txt").write_text("not an image")
    (tmp_path / "2026-11-03" / ".half.tmp").write_bytes(b"\x89PNG")
    done = library.reconcile()
    assert done.finished and done.total == 3 and done.added == 3
    page = library.search(LibraryQuery())
    assert [e.prompt for e in page.entries] == ["a new fox", "an old lighthouse"]
    assert page.total == 2 and page.entries[0].path == tmp_path / "2026-11-03" / "new.png"


@pytest.mark.parametrize("fmt, suffix", [("JPEG", ".jpg"), ("WEBP", ".webp")])
def test_jpeg_and_webp_made_here_are_indexed_and_previewed(tmp_path, library, fmt, suffix):
    buffer = io.BytesIO()
    Image.new("RGB", (32, 48), (10, 120, 200)).save(buffer, fmt)
    path = tmp_path / "d" / f"fox{suffix}"
    path.parent.mkdir()
    path.write_bytes(metadata.embed(buffer.getvalue(), {"prompt": f"a {fmt} fox", "model": "gpt-image-2",
                                                         "quality": "high", "size": "1024x1536"}))
    library.reconcile()
    (entry,) = library.search(LibraryQuery(words="fox")).entries
    assert entry.prompt == f"a {fmt} fox" and entry.path == path
    (preview,) = library.thumbnails([entry])
    assert preview is not None and preview.suffix == ".webp"


def test_second_reconcile_reads_nothing_when_no_file_changed(tmp_path, library):
    for i in range(5):
        make_image(tmp_path, f"d/{i}.png", f"image {i}")
    assert library.reconcile().total == 5
    again = Library(tmp_path)
    try:
        assert again.reconcile() == ReconcileProgress(0, 0, True, 0, 0)
        assert len(prompts(again)) == 5
    finally:
        again.close()


def test_reconcile_picks_up_files_added_deleted_moved_and_rewritten_by_hand(tmp_path, library):
    make_image(tmp_path, "a/keep.png", "kept")
    make_image(tmp_path, "a/delete.png", "deleted by hand")
    make_image(tmp_path, "a/move.png", "moved by hand")
    rewritten = make_image(tmp_path, "a/rewrite.png", "before the edit")
    library.reconcile()
    (tmp_path / "a" / "delete.png").unlink()
    (tmp_path / "b").mkdir()
    shutil.move(tmp_path / "a" / "move.png", tmp_path / "b" / "moved.png")
    make_image(tmp_path, "b/added.png", "added by hand")
    stat = rewritten.stat()
    make_image(tmp_path, "a/rewrite.png", "after the edit")
    os.utime(rewritten, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    done = library.reconcile()
    assert done.removed == 2 and done.added == 2  # the move is a delete plus an add
    paths = {e.prompt: e.path for e in library.search(LibraryQuery()).entries}
    assert paths == {"kept": tmp_path / "a" / "keep.png", "moved by hand": tmp_path / "b" / "moved.png",
                     "added by hand": tmp_path / "b" / "added.png", "after the edit": rewritten}
    assert not library.search(LibraryQuery(words="before")).entries


def test_deleted_index_is_rebuilt_from_the_files(tmp_path):
    make_image(tmp_path, "d/one.png", "a fox in snow")
    first = Library(tmp_path)
    first.reconcile()
    first.close()
    (tmp_path / INDEX_NAME).unlink()
    second = Library(tmp_path)
    try:
        assert second.reconcile().added == 1
        assert prompts(second, LibraryQuery(words="fox")) == ["a fox in snow"]
    finally:
        second.close()


@pytest.mark.parametrize("damage", [b"this is not a database at all" * 100, b"SQLite format 3\0" + b"\xff" * 4000])
def test_corrupt_index_is_rebuilt_not_fatal(tmp_path, damage):
    make_image(tmp_path, "d/one.png", "a fox in snow")
    (tmp_path / INDEX_NAME).write_bytes(damage)
    library = Library(tmp_path)
    try:
        library.reconcile()
        assert prompts(library, LibraryQuery(words="snow")) == ["a fox in snow"]
    finally:
        library.close()
    with sqlite3.connect(tmp_path / INDEX_NAME) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)


def test_index_from_a_newer_schema_is_rebuilt(tmp_path):
    make_image(tmp_path, "d/one.png", "a fox")
    with sqlite3.connect(tmp_path / INDEX_NAME) as conn:
        conn.execute("PRAGMA user_version = 99")
    library = Library(tmp_path)
    try:
        assert library.reconcile().added == 1
    finally:
        library.close()


def test_metadata_from_outside_is_checked_field_by_field(tmp_path, library):
    make_image(tmp_path, "d/odd.png", "a <b>bold</b> fox", model="<script>x</script>", size="huge",
               quality="DROP TABLE", seed=-5, cost_usd="free", created="yesterday", revised_prompt=7)
    make_image(tmp_path, "d/long.png", "x" * 40_000)
    library.reconcile()
    (entry,) = library.search(LibraryQuery()).entries
    assert (entry.model, entry.size, entry.quality, entry.seed, entry.revised_prompt) == (None,) * 5
    assert entry.cost_usd is None and not entry.cost_exact
    text = details(entry)
    assert "<b>" not in text and "&lt;b&gt;" in text


def test_images_saved_before_costs_were_recorded_get_the_table_figure_marked_approximate(tmp_path, library):
    make_image(tmp_path, "d/hd.png", "an hd fox", quality="hd", size="1792x1024", cost_usd=None, cost_exact=None)
    make_image(tmp_path, "d/sim.png", "a simulated fox", backend="simulator", cost_usd=None)
    library.reconcile()
    costs = {e.prompt: (e.cost_usd, e.cost_exact) for e in library.search(LibraryQuery()).entries}
    assert costs == {"an hd fox": (pytest.approx(0.12), False), "a simulated fox": (0.0, True)}


# ----- searching


def test_words_match_prompt_and_revised_prompt_by_prefix_all_required(tmp_path, library):
    make_image(tmp_path, "d/1.png", "a red fox", revised_prompt="A russet fox curled in snow at dawn")
    make_image(tmp_path, "d/2.png", "foxes in a field")
    make_image(tmp_path, "d/3.png", "an owl")
    library.reconcile()
    assert sorted(prompts(library, LibraryQuery(words="fox"))) == ["a red fox", "foxes in a field"]
    assert prompts(library, LibraryQuery(words="russet")) == ["a red fox"]
    assert prompts(library, LibraryQuery(words="FOX snow")) == ["a red fox"]
    assert prompts(library, LibraryQuery(words="owl fox")) == []


@pytest.mark.parametrize("hostile", ['"fox OR *', "NEAR(", "fox OR owl", "*", ")", "prompt:fox", "^fox", "-owl",
                                     'fox" OR "owl', "fox AND NOT owl", "{prompt}: fox", "''; DROP TABLE files; --"])
def test_hostile_search_text_is_searched_as_words_never_parsed(tmp_path, library, hostile):
    make_image(tmp_path, "d/1.png", "a red fox")
    make_image(tmp_path, "d/2.png", "an owl near the lake")
    library.reconcile()
    found = prompts(library, LibraryQuery(words=hostile))  # never raises
    query = fts_query(hostile)
    assert query is None or all(part.startswith('"') and part.endswith('"*') for part in query.split(" "))
    if hostile in ("fox OR owl", 'fox" OR "owl', "fox AND NOT owl"):
        assert found == []  # OR/AND/NOT are words to find, not operators
    assert len(prompts(library)) == 2  # nothing was dropped


def test_near_is_a_word_not_an_operator(tmp_path, library):
    make_image(tmp_path, "d/1.png", "a cabin near the lake")
    make_image(tmp_path, "d/2.png", "a fox")
    library.reconcile()
    assert prompts(library, LibraryQuery(words="NEAR(")) == ["a cabin near the lake"]


def test_filters_by_model_size_and_day_range_and_pages(tmp_path, library):
    for day in range(1, 6):
        make_image(tmp_path, f"2026-11-0{day}/a.png", f"dalle {day}", created=f"2026-11-0{day}T12:00:00+00:00")
        make_image(tmp_path, f"2026-11-0{day}/b.png", f"gpt {day}", created=f"2026-11-0{day}T12:00:01+00:00",
                   model="gpt-image-2", quality="high", size="1536x1024", cost_usd=0.2)
    library.reconcile()
    assert prompts(library, LibraryQuery(model="gpt-image-2", per_page=2)) == ["gpt 5", "gpt 4"]
    second = library.search(LibraryQuery(model="gpt-image-2", page=2, per_page=2))
    assert [e.prompt for e in second.entries] == ["gpt 3", "gpt 2"] and second.total == 5 and second.pages == 3
    assert prompts(library, LibraryQuery(size="1024x1024", since=dt.date(2026, 11, 2), until=dt.date(2026, 11, 3))) \
        == ["dalle 3", "dalle 2"]
    assert library.choices() == (["dall-e-3", "gpt-image-2"], ["1024x1024", "1536x1024"])


def test_totals_cover_everything_shown_by_day_and_by_model(tmp_path, library):
    for day in (1, 2):
        make_image(tmp_path, f"2026-11-0{day}/a.png", f"fox {day}", created=f"2026-11-0{day}T12:00:00+00:00")
        make_image(tmp_path, f"2026-11-0{day}/b.png", f"fox gpt {day}", created=f"2026-11-0{day}T12:00:00+00:00",
                   model="gpt-image-2", cost_usd=0.25, cost_exact=True)
    make_image(tmp_path, "2026-11-02/c.png", "an owl", created="2026-11-02T12:00:00+00:00")
    library.reconcile()
    totals = library.totals(LibraryQuery(words="fox", per_page=1))  # all pages, not just the first
    assert totals.images == 4 and totals.usd == pytest.approx(0.58) and totals.exact
    assert [(s.key, s.images, round(s.usd, 2)) for s in totals.by_day] == [("2026-11-02", 2, 0.29),
                                                                           ("2026-11-01", 2, 0.29)]
    assert [(s.key, s.images, round(s.usd, 2)) for s in totals.by_model] == [("gpt-image-2", 2, 0.5),
                                                                             ("dall-e-3", 2, 0.08)]


# ----- writes from many generations at once


def test_concurrent_records_and_a_reconcile_lose_nothing(tmp_path, library):
    paths = [make_image(tmp_path, f"d/{i}.png", f"image number {i}") for i in range(40)]
    errors: list[BaseException] = []

    def record(chunk: list[Path]) -> None:
        try:
            for path in chunk:
                library.record(path, metadata.read_parameters(path))
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=record, args=(paths[i::8],)) for i in range(8)]
    threads.append(threading.Thread(target=library.reconcile))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert not errors
    assert library.search(LibraryQuery(per_page=100)).total == 40
    assert Library(tmp_path).reconcile().total == 0  # every row matches its file


def test_studio_records_every_saved_image_with_its_cost(tmp_path):
    settings = Settings(api_key=None, output_dir=tmp_path)
    library = Library(tmp_path)
    studio = Studio(settings, library=library)
    try:
        threads = [threading.Thread(target=studio.generate, args=(validate(f"a fox number {i}", seed=i),))
                   for i in range(12)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        page = library.search(LibraryQuery(words="fox"))
        assert page.total == 12
        assert {(e.cost_usd, e.cost_exact) for e in page.entries} == {(0.0, True)}
        stored = metadata.read_parameters(page.entries[0].path)
        assert stored["cost_usd"] == 0.0 and stored["cost_exact"] is True
        assert Library(tmp_path).reconcile().total == 0
    finally:
        library.close()


def test_saved_images_store_the_bill_the_totals_read(fake_api, tmp_path):
    from tests.apphelpers import app_settings

    library = Library(tmp_path / "out")
    studio = Studio(app_settings(fake_api.base_url, tmp_path / "out"), library=library)
    try:
        flat = studio.generate(validate("a flat-price fox", quality="hd"))
        billed = studio.generate(validate("a token-billed fox", quality="high", model="gpt-image-2"))
        stored = {p: metadata.read_parameters(r.path) for p, r in (("flat", flat), ("billed", billed))}
        assert (stored["flat"]["cost_usd"], stored["flat"]["cost_exact"]) == (0.08, True)
        assert stored["billed"]["cost_usd"] == round(billed.cost.usd, 6) > 0 and stored["billed"]["cost_exact"]
        totals = library.totals(LibraryQuery(words="fox"))
        assert totals.images == 2 and totals.exact and totals.usd == pytest.approx(0.08 + billed.cost.usd)
        batch = studio.generate(validate("a batch of owls", quality="low", model="gpt-image-2", n=3))
        owls = library.browse(LibraryQuery(words="owls"))
        assert owls[0].total == 3 and {e.path for e in owls[0].entries} == {i.path for i in batch.images}
        assert owls[1].usd == pytest.approx(batch.cost.usd, abs=3e-6)  # each file keeps its share of the bill
    finally:
        library.close()


def test_a_failing_index_never_fails_the_generation(tmp_path):
    library = Library(tmp_path / "lib")
    library.close()
    shutil.rmtree(tmp_path / "lib")  # index gone from under it; the folder too
    studio = Studio(Settings(api_key=None, output_dir=tmp_path / "out"), library=library)
    assert studio.generate(validate("a fox")).path.is_file()


# ----- privacy: who may see the library


@pytest.mark.parametrize("env, host, on", [
    ({}, "127.0.0.1", True),
    ({}, "localhost", True),
    ({}, "::1", True),
    ({"DALLE3_LIBRARY": "0"}, "127.0.0.1", False),
    ({}, "0.0.0.0", False),
    ({"DALLE3_LIBRARY": "1"}, "0.0.0.0", False),
    ({"DALLE3_AUTH": "a:b"}, "0.0.0.0", False),
    ({"DALLE3_LIBRARY": "1", "DALLE3_AUTH": "a:b"}, "0.0.0.0", True),
    ({"SYSTEM": "spaces"}, "127.0.0.1", False),
    ({"SPACE_ID": "me/studio", "DALLE3_LIBRARY": "1"}, "127.0.0.1", False),
    ({"SPACE_ID": "me/studio", "DALLE3_LIBRARY": "1", "DALLE3_AUTH": "a:b"}, "0.0.0.0", True),
    ({"DALLE3_OUTPUT_DIR": ""}, "127.0.0.1", False),
])
def test_library_is_on_at_loopback_and_beyond_it_only_with_opt_in_and_login(env, host, on):
    access = library_access(from_env(env), host)
    assert access.enabled is on
    if not on and "DALLE3_LIBRARY" not in env and "DALLE3_OUTPUT_DIR" not in env:
        assert "DALLE3_LIBRARY=1" in access.reason and "DALLE3_AUTH" in access.reason


def test_bad_library_setting_stops_start_up_naming_the_variable():
    with pytest.raises(Exception) as caught:
        from_env({"DALLE3_LIBRARY": "maybe"})
    assert "DALLE3_LIBRARY" in caught.value.user_message


# ----- the page's values


def test_page_views_escape_file_text_and_sum_what_is_shown(tmp_path, library):
    make_image(tmp_path, "d/1.png", "a **bold** <img src=x onerror=alert(1)> fox", cost_usd=0.04)
    make_image(tmp_path, "d/2.png", "a plain fox", model="gpt-image-2", quality="high", cost_usd=0.2,
               cost_exact=False)
    library.reconcile()
    query = parse_query("fox", "", "", "2026-11-01", "2026-11-30", page="1")
    page, totals = library.search(query), library.totals(query)
    text = summary(page, totals)
    assert "**2 images**" in text and "≈ $0.240" in text and "page 1 of 1" in text
    assert [caption for _, caption in gallery(page)][1].startswith("a **bold** <img")  # captions are plain text
    shown = details(page.entries[1])
    assert "<img" not in shown and "\\*\\*bold\\*\\*" in shown
    assert summary(library.search(LibraryQuery(words="zebra")), library.totals(LibraryQuery(words="zebra"))) \
        .startswith("No images match")


def test_show_and_select_give_the_page_a_grid_and_everything_a_click_needs(tmp_path, library):
    for i in range(3):
        make_image(tmp_path, f"d/{i}.png", f"a fox number {i}", seed=i, created=f"2026-11-0{i + 1}T10:00:00+00:00")
    make_image(tmp_path, "d/owl.png", "an owl")
    library.reconcile()
    shown = show(library, "fox", "", "", "", "", 1)
    assert len(shown.gallery) == len(shown.ids) == 3 and (shown.page, shown.pages) == (1, 1)
    assert all(Path(image).suffix == ".webp" for image, _ in shown.gallery) and "**3 images**" in shown.summary
    picked = select(library, shown.ids, 0, "https://api.openai.com/v1", "http://127.0.0.1:7860/")
    assert picked.path == str(tmp_path / "d" / "2.png") and picked.prompt == "a fox number 2"
    restored = restore(picked.parameters)
    assert (restored.request.prompt, restored.request.seed, restored.request.model) == ("a fox number 2", 2, "dall-e-3")
    assert "'a fox number 2'" in picked.code.python and "seed=2" in picked.code.gradio
    assert "a fox number 2" not in picked.details  # the page shows the prompt once, in its own copy box
    assert select(library, shown.ids, 7, "", "") is None
    (tmp_path / "d" / "2.png").unlink()
    assert select(library, shown.ids, 0, "", "") is None  # deleted since the grid was drawn
    assert show(library, "fox", page=9).page == 1  # past the end: the last page
    with pytest.raises(ValidationError):
        show(library, since="someday")


@pytest.mark.parametrize("since, until, message", [("2026-13-01", "", "Since must be a date"),
                                                   ("2026-11-05", "2026-11-01", "swap the dates")])
def test_bad_date_filters_are_refused_with_a_sentence(since, until, message):
    with pytest.raises(ValidationError, match=message):
        parse_query("", "", "", since, until)


def test_progress_is_shown_until_the_reconcile_finishes():
    assert progress_text(ReconcileProgress(3_400, 10_000)) == "Indexing 3,400 of 10,000 images…"
    assert progress_fraction(ReconcileProgress(3_400, 10_000)) == pytest.approx(0.34)
    assert progress_text(ReconcileProgress(10_000, 10_000, True)) is None


def test_background_reconcile_reports_progress_and_finishes(tmp_path, library):
    for i in range(300):
        make_image(tmp_path, f"d/{i}.png", f"image {i}")
    seen: list[ReconcileProgress] = []
    library.reconcile(seen.append)
    assert seen[0] == ReconcileProgress(0, 300, False, 0, 0) and seen[-1].finished
    assert [s.done for s in seen] == sorted(s.done for s in seen) and len(seen) >= 3
    make_image(tmp_path, "d/late.png", "a late one")
    library.start().join(30)
    assert library.progress.finished and library.progress.added == 1


# ----- previews for the grid


def test_previews_are_small_made_once_and_removed_with_their_image(tmp_path, library):
    big = tmp_path / "d" / "big.png"
    big.parent.mkdir()
    Image.effect_noise((1024, 1792), 60).convert("RGB").save(big)
    big.write_bytes(metadata.embed(big.read_bytes(), {"prompt": "a big fox", "model": "dall-e-3"}))
    make_image(tmp_path, "d/small.png", "a small fox")
    (tmp_path / "d" / "broken.png").write_bytes(metadata.embed(small_png(), {"prompt": "broken"})[:-30])
    library.reconcile()
    page = library.search(LibraryQuery())
    previews = library.thumbnails(page.entries)
    by_prompt = dict(zip((e.prompt for e in page.entries), previews))
    preview = by_prompt["a big fox"]
    assert by_prompt["broken"] is None and by_prompt["a small fox"] is not None
    assert preview is not None and preview.parent == tmp_path / THUMBS_DIR
    with Image.open(preview) as image:
        assert image.format == "WEBP" and max(image.size) <= 256 and image.size[1] > image.size[0]
    assert preview.stat().st_size < big.stat().st_size / 50
    made = preview.stat().st_mtime_ns
    assert library.thumbnails(page.entries) == previews and preview.stat().st_mtime_ns == made  # cached
    assert [caption for _, caption in gallery(page, previews)] == [caption for _, caption in gallery(page)]
    assert library.reconcile().total == 0  # the previews folder is not mistaken for images
    big.unlink()
    library.reconcile()
    assert not preview.exists()


# ----- the command line


def test_cli_lists_matches_with_path_date_model_cost_and_prompt(tmp_path):
    out = tmp_path / "out"
    make_image(out, "2026-11-02/fox.png", "a red fox", model="gpt-image-2", quality="high",
               created="2026-11-02T09:00:00+00:00", cost_usd=0.1875)
    make_image(out, "2026-10-20/fox.png", "an older fox", model="gpt-image-2", quality="high",
               created="2026-10-20T09:00:00+00:00")
    make_image(out, "2026-11-03/owl.png", "an owl", created="2026-11-03T09:00:00+00:00")
    done = run_cli(tmp_path, "library", "fox", "--model", "gpt-image-2", "--since", "2026-11-01")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == str(Path("out") / "2026-11-02" / "fox.png") or lines[0].endswith("2026-11-02/fox.png")
    assert "gpt-image-2" in lines[1] and "$0.1875" in lines[1] and "2026-11-0" in lines[1]
    assert lines[2].strip() == "a red fox" and lines[-1] == "1 image · $0.1875 in all"
    as_json = run_cli(tmp_path, "library", "fox", "--json")
    data = json.loads(as_json.stdout)
    assert data["total"] == 2 and [i["prompt"] for i in data["images"]] == ["a red fox", "an older fox"]
    assert data["images"][0]["cost_usd"] == 0.1875 and data["images"][0]["model"] == "gpt-image-2"


def test_cli_refuses_a_bad_date_and_keeps_plain_generation_working(tmp_path):
    bad = run_cli(tmp_path, "library", "--since", "soon")
    assert bad.returncode == 1 and "Since must be a date" in bad.stderr and "Traceback" not in bad.stderr
    made = run_cli(tmp_path, "a fox at dawn", "--offline")
    assert made.returncode == 0, made.stderr
    listed = run_cli(tmp_path, "library", "dawn", "--json")
    assert [i["prompt"] for i in json.loads(listed.stdout)["images"]] == ["a fox at dawn"]

