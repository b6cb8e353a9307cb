"""``python -m dalle3`` run as a real subprocess against the loopback fake, as a user would."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from dalle3.cli import GenerateOptions, instead_command
from dalle3.models.text import models_markdown
from dalle3.files.metadata import read_parameters
from dalle3.models import MODELS
from tests.fake_openai import FakeOpenAI, Outcome, closed_port_url

REPO = Path(__file__).resolve().parents[1]
KEY = "sk-cli-test-SECRET-0123456789abcdef"


def run_cli(tmp_path: Path, *args: str, fake: FakeOpenAI | None = None, key: str | None = KEY,
            **env_extra: str) -> subprocess.CompletedProcess[str]:
    """The real entry point, in a clean environment: only the variables given here."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "DALLE3_"))}
    env.update({"PYTHONPATH": str(REPO), "DALLE3_OUTPUT_DIR": str(tmp_path / "out"), "DALLE3_TIMEOUT_S": "5",
                "DALLE3_MAX_RETRIES": "0", "PYTHONIOENCODING": "utf-8", **env_extra})
    if fake is not None:
        env["OPENAI_BASE_URL"] = fake.base_url
    if key is not None:
        env["OPENAI_API_KEY"] = key
    return subprocess.run([sys.executable, "-m", "dalle3", *args], cwd=tmp_path, env=env,
                          capture_output=True, text=True, encoding="utf-8", timeout=60)


def saved_path(stdout: str) -> Path:
    line = next(line for line in stdout.splitlines() if line.startswith("Saved: "))
    return Path(line.removeprefix("Saved: "))


def test_generate_prints_revised_prompt_cost_and_path_and_writes_identical_copy(tmp_path, fake_api):
    fake_api.script(Outcome.success(revised_prompt="A calm lighthouse at dawn, watercolor"))
    done = run_cli(tmp_path, "a lighthouse at dawn", "--seed", "7", "-o", "copy.png", fake=fake_api)
    assert done.returncode == 0, done.stderr
    assert "Revised prompt: A calm lighthouse at dawn, watercolor" in done.stdout
    assert "Cost: $0.040" in done.stdout
    assert "**" not in done.stdout and "`" not in done.stdout  # plain text, not Markdown
    saved = saved_path(done.stdout)
    assert saved.is_file() and saved.is_relative_to(tmp_path / "out")
    copy = tmp_path / "copy.png"
    assert copy.read_bytes() == saved.read_bytes()
    settings = read_parameters(copy)
    assert settings is not None
    assert (settings["prompt"], settings["seed"], settings["model"]) == ("a lighthouse at dawn", 7, "dall-e-3")
    body = fake_api.requests[-1].json
    assert body is not None and body["model"] == "dall-e-3" and body["quality"] == "standard"


def test_options_reach_the_request(tmp_path, fake_api):
    done = run_cli(tmp_path, "a fox", "--model", "gpt-image-2", "--quality", "high", "--size", "1536x1024",
                   "--background", "opaque", "--moderation", "low", fake=fake_api)
    assert done.returncode == 0, done.stderr
    body = fake_api.requests[-1].json
    assert body is not None
    assert (body["model"], body["quality"], body["size"], body["background"], body["moderation"]) == (
        "gpt-image-2", "high", "1536x1024", "opaque", "low")
    assert "style" not in body
    assert "Cost: $" in done.stdout


def test_validation_error_exits_1_with_the_message_and_no_request(tmp_path, fake_api):
    done = run_cli(tmp_path, "a fox", "--quality", "ultra", fake=fake_api)
    assert done.returncode == 1
    assert "Quality 'ultra' is not available for dall-e-3. Choose one of: standard, hd." in done.stderr
    assert "Traceback" not in done.stderr and done.stdout == ""
    assert fake_api.generation_count == 0


def test_api_error_exits_1_with_plain_message_no_traceback_and_no_key(tmp_path, fake_api):
    fake_api.script(Outcome.content_policy())
    done = run_cli(tmp_path, "something the safety system dislikes", fake=fake_api)
    assert done.returncode == 1
    assert "OpenAI's safety system rejected this prompt" in done.stderr
    assert "HTTP 400" in done.stderr
    assert "Traceback" not in done.stderr
    for text in (done.stdout, done.stderr):
        assert KEY not in text and KEY[-8:] not in text


def test_unreachable_endpoint_is_a_plain_error(tmp_path):
    done = run_cli(tmp_path, "a fox", OPENAI_BASE_URL=closed_port_url())
    assert done.returncode == 1
    assert done.stderr.startswith("dalle3: ") and "Traceback" not in done.stderr


def test_bad_configuration_names_the_variable(tmp_path):
    done = run_cli(tmp_path, "a fox", DALLE3_TIMEOUT_S="soon")
    assert done.returncode == 1
    assert "DALLE3_TIMEOUT_S='soon' is not a number." in done.stderr


@pytest.mark.parametrize("args", [(), ("--seed", "many", "a fox"), ("a fox", "--read", "x.png"), ("--nope",)])
def test_usage_errors_exit_2(tmp_path, args):
    done = run_cli(tmp_path, *args, key=None)
    assert done.returncode == 2
    assert "usage: python -m dalle3" in done.stderr


def test_help_lists_every_option_with_its_default(tmp_path):
    done = run_cli(tmp_path, "--help", key=None)
    assert done.returncode == 0
    text = " ".join(done.stdout.split())
    for option in ("--seed", "--quality", "--style", "--size", "--model", "--background", "--moderation",
                   "--complexity", "--output", "--offline", "--read", "--list-models"):
        assert option in text
    assert text.count("(default:") >= 10
    for value in ("standard, hd, low, medium, high, auto", "natural, vivid", "1792x1024", "gpt-image-2"):
        assert value in text


def test_offline_needs_no_key_and_no_network(tmp_path):
    done = run_cli(tmp_path, "a fox", "--offline", "-o", "fox.png", key=None,
                   OPENAI_BASE_URL=closed_port_url())
    assert done.returncode == 0, done.stderr
    assert "Offline simulator" in done.stdout and "Cost: no charge" in done.stdout
    assert (tmp_path / "fox.png").read_bytes() == saved_path(done.stdout).read_bytes()
    assert read_parameters(tmp_path / "fox.png")["backend"] == "simulator"


def test_offline_flag_wins_over_a_configured_key(tmp_path, fake_api):
    done = run_cli(tmp_path, "a fox", "--offline", fake=fake_api)
    assert done.returncode == 0, done.stderr
    assert "Offline simulator" in done.stdout
    assert fake_api.generation_count == 0 and not fake_api.model_requests


def test_read_round_trip_prints_the_stored_settings(tmp_path):
    made = run_cli(tmp_path, "a red fox", "--seed", "11", "--style", "vivid", "--offline", "-o", "fox.png")
    assert made.returncode == 0, made.stderr
    done = run_cli(tmp_path, "--read", "fox.png", key=None)
    assert done.returncode == 0, done.stderr
    settings = json.loads(done.stdout)
    assert settings == read_parameters(tmp_path / "fox.png")
    assert (settings["prompt"], settings["seed"], settings["style"]) == ("a red fox", 11, "vivid")
    assert done.stdout.startswith("{\n  ")  # pretty-printed


def test_read_a_file_without_settings_says_so(tmp_path):
    (tmp_path / "plain.png").write_bytes(b"\x89PNG\r\n\x1a\n not really")
    done = run_cli(tmp_path, "--read", "plain.png", key=None)
    assert done.returncode == 1
    assert done.stderr.strip() == "dalle3: No dalle3 studio settings found in plain.png."


def test_list_models_without_a_key_shows_the_table_only(tmp_path):
    done = run_cli(tmp_path, "--list-models", key=None)
    assert done.returncode == 0, done.stderr
    assert "retired 2026-05-12, successor gpt-image-2" in done.stdout
    for model_id in MODELS:
        assert f"\n{model_id} (" in "\n" + done.stdout
    assert "standard $0.040–$0.080; hd $0.080–$0.120 per image" in done.stdout
    assert "$30 image out" in done.stdout
    assert "endpoint:" not in done.stdout


def test_list_models_with_a_key_marks_what_the_endpoint_offers(tmp_path, fake_api):
    fake_api.models = [m for m in fake_api.models if m["id"] != "gpt-image-2.5-flare"]
    fake_api.models.append({"id": "gpt-image-2.7-nova", "object": "model", "created": 1, "owned_by": "system"})
    done = run_cli(tmp_path, "--list-models", fake=fake_api)
    assert done.returncode == 0, done.stderr
    blocks = {block.split(" ", 1)[0]: block for block in done.stdout.split("\n\n")}
    assert "retired 2026-05-12" in blocks["dall-e-3"] and "endpoint:  offered" in blocks["dall-e-3"]
    assert "gpt-image-2" in blocks and "endpoint:  offered" in blocks["gpt-image-2"]
    assert f"not offered by {fake_api.base_url}" in blocks["gpt-image-2.5-flare"]
    # gpt-image-1.5 is in the table or, listed by the endpoint only, among the others: either way dated.
    line = next(line for line in done.stdout.splitlines() if "gpt-image-1.5" in line)
    entry = blocks.get("gpt-image-1.5", line)
    assert "retired 2026-12-01" in entry  # shut down since that day
    assert "gpt-image-2.7-nova: rules assumed from the gpt-image-2 family." in done.stdout
    assert "gpt-5" not in done.stdout and "text-embedding" not in done.stdout
    assert len(fake_api.model_requests) == 1 and fake_api.generation_count == 0


def test_list_models_survives_a_refused_listing(tmp_path, fake_api):
    fake_api.models_outcome = Outcome.server_error()
    done = run_cli(tmp_path, "--list-models", fake=fake_api)
    assert done.returncode == 0, done.stderr
    assert f"Could not list the models of {fake_api.base_url}" in done.stdout
    assert "retired 2026-05-12" in done.stdout


def test_models_markdown_is_a_table_of_every_model():
    text = models_markdown()
    rows = [line for line in text.splitlines() if line.startswith("| `")]
    assert [row.split("`")[1] for row in rows] == list(MODELS)
    assert all(row.count(" | ") == 7 for row in rows)
    assert "| `dall-e-3` | retired 2026-05-12 | `gpt-image-2` |" in text


def test_previews_are_printed_as_they_arrive_and_saved_with_the_flag(tmp_path, fake_api):
    done = run_cli(tmp_path, "a fox", "--model", "gpt-image-2", "--quality", "low", "--previews", "2",
                   "--save-partials", "previews", fake=fake_api)
    assert done.returncode == 0, done.stderr
    lines = [line for line in done.stderr.splitlines() if line.startswith("preview ")]
    assert [line.split(" · ")[0] for line in lines] == ["preview 1 of 2", "preview 2 of 2"]
    partials = sorted((tmp_path / "previews").glob("*.png"))
    assert len(partials) == 2 and all(p.name in done.stderr for p in partials)
    assert list((tmp_path / "out").rglob("*.png")) == [saved_path(done.stdout)]
    assert fake_api.requests[-1].json["partial_images"] == 2 and "Traceback" not in done.stderr


def test_previews_zero_sends_the_plain_call(tmp_path, fake_api):
    done = run_cli(tmp_path, "a fox", "--model", "gpt-image-2", "--previews", "0", fake=fake_api)
    assert done.returncode == 0, done.stderr
    assert "stream" not in fake_api.requests[-1].json and "preview " not in done.stderr


# --- a model the endpoint does not offer: the exact command to run instead ------------------------

def cli_args(command: str) -> list[str]:
    """A printed ``python -m dalle3 ...`` command as run_cli's arguments (checks the prefix)."""
    words = shlex.split(command)
    assert words[:3] == ["python", "-m", "dalle3"], command
    return words[3:]


def test_model_not_offered_prints_the_command_for_its_successor_and_that_command_works(tmp_path, fake_api):
    fake_api.retired_models = {"dall-e-3"}
    done = run_cli(tmp_path, "a lighthouse at dawn, watercolor", "--model", "dall-e-3", "--quality", "hd",
                   "--style", "vivid", "--size", "1792x1024", "--seed", "7", "--previews", "2",
                   "--save-partials", "previews", "-o", "lighthouse.png", fake=fake_api)
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert "This endpoint does not offer dall-e-3" in done.stderr
    expected = ("python -m dalle3 'a lighthouse at dawn, watercolor' --model gpt-image-2 --quality high "
                "--size 1792x1024 --seed 7 --previews 2 --save-partials previews -o lighthouse.png")
    assert f"dalle3: run instead: {expected}\n" in done.stderr
    again = run_cli(tmp_path, *cli_args(expected), fake=fake_api)
    assert again.returncode == 0, again.stderr
    body = fake_api.requests[-1].json
    assert (body["model"], body["quality"], body["size"]) == ("gpt-image-2", "high", "1792x1024")
    assert "style" not in body and read_parameters(tmp_path / "lighthouse.png")["seed"] == 7
    assert body["partial_images"] == 2 and len(list((tmp_path / "previews").iterdir())) == 2


def without(fake: FakeOpenAI, model: str) -> None:
    """An endpoint that neither lists nor serves ``model``, as an ordinary key sees dall-e-3 today."""
    fake.retired_models = {model}
    fake.models = [m for m in fake.models if m["id"] != model]


def test_without_a_model_the_cli_uses_the_endpoints_successor_and_says_so(tmp_path, fake_api):
    without(fake_api, "dall-e-3")
    done = run_cli(tmp_path, "a lighthouse at dawn", "--quality", "hd", "--seed", "7", fake=fake_api)
    assert done.returncode == 0, done.stderr
    assert ("dalle3: dall-e-3 is not offered by this endpoint; using gpt-image-2 (quality hd → high). "
            "Name a model to choose another.\n") in done.stderr
    body = fake_api.requests[-1].json
    assert (body["model"], body["quality"]) == ("gpt-image-2", "high")
    assert read_parameters(saved_path(done.stdout))["model"] == "gpt-image-2"


def test_the_run_instead_hint_carries_every_option_given(tmp_path, fake_api):
    without(fake_api, "gpt-image-1")
    done = run_cli(tmp_path, "a fox", "--model", "gpt-image-1", "-n", "2", "--output-format", "webp",
                   "--output-compression", "80", "--background", "opaque", "--previews", "0", "-o", "fox.webp",
                   fake=fake_api)
    assert done.returncode == 1 and "This endpoint does not offer gpt-image-1" in done.stderr
    expected = ("python -m dalle3 'a fox' --model gpt-image-2.5-sunburst --background opaque -n 2 --previews 0 "
                "--output-format webp --output-compression 80 -o fox.webp")
    assert f"dalle3: run instead: {expected}\n" in done.stderr
    again = run_cli(tmp_path, *cli_args(expected), fake=fake_api)
    assert again.returncode == 0, again.stderr
    body = fake_api.requests[-1].json
    assert (body["model"], body["n"], body["output_format"], body["output_compression"], body["background"]) == \
        ("gpt-image-2.5-sunburst", 2, "webp", 80, "opaque")
    assert (tmp_path / "fox-1.webp").is_file() and (tmp_path / "fox-2.webp").is_file()


def test_an_edit_on_a_model_not_offered_names_the_edit_to_run_instead(tmp_path, fake_api):
    without(fake_api, "gpt-image-1.5")
    Image.new("RGB", (512, 512), (90, 140, 200)).save(tmp_path / "photo.png")
    sky = Image.new("RGBA", (512, 512), (0, 0, 0, 255))
    sky.paste((0, 0, 0, 0), (0, 0, 512, 200))
    sky.save(tmp_path / "sky.png")
    done = run_cli(tmp_path, "edit", "photo.png", "--mask", "sky.png", "--model", "gpt-image-1.5", "-n", "2",
                   "--input-fidelity", "high", "--background", "opaque", "a stormy sky", fake=fake_api)
    assert done.returncode == 1 and "This endpoint does not offer gpt-image-1.5" in done.stderr, done.stderr
    # gpt-image-2 has no input fidelity setting: dropped, as a style is
    expected = ("python -m dalle3 edit photo.png --model gpt-image-2 --background opaque -n 2 --mask sky.png "
                "-- 'a stormy sky'")
    assert f"dalle3: run instead: {expected}\n" in done.stderr
    again = run_cli(tmp_path, *cli_args(expected), fake=fake_api)
    assert again.returncode == 0, again.stderr
    assert [r.path for r in fake_api.edit_requests][-1].endswith("/images/edits")


def test_the_suggestion_keeps_defaults_as_defaults_and_only_extras_the_successor_takes():
    asked = GenerateOptions(prompt="a fox", model="dall-e-3")
    assert instead_command(asked, "gpt-image-2") == "python -m dalle3 'a fox' --model gpt-image-2"
    asked = GenerateOptions(prompt="a fox", model="gpt-image-1.5", quality="low", size="1536x1024",
                            extras={"background": "transparent", "moderation": None, "complexity": "low"})
    assert instead_command(asked, "gpt-image-2") == ("python -m dalle3 'a fox' --model gpt-image-2 --quality low "
                                                    "--size 1536x1024 --background transparent")
    assert instead_command(asked, "no-such-model") is None


@pytest.mark.parametrize("prompt", ["--seed is a word", "generate", "it's \"quoted\"; rm -rf ~"])
def test_the_suggested_command_keeps_any_prompt_exactly(tmp_path, prompt):
    command = instead_command(GenerateOptions(prompt=prompt, model="dall-e-3", quality="standard"), "gpt-image-2",
                              ("generate",))
    assert command is not None
    done = run_cli(tmp_path, *cli_args(command), key=None, DALLE3_OFFLINE="1")
    assert done.returncode == 0, done.stderr
    assert read_parameters(saved_path(done.stdout))["prompt"] == prompt
    assert read_parameters(saved_path(done.stdout))["quality"] == "medium"


def test_generate_can_be_named_and_is_the_default(tmp_path):
    named = run_cli(tmp_path, "generate", "a fox", "--offline", "--seed", "4", key=None)
    default = run_cli(tmp_path, "a fox", "--offline", "--seed", "4", key=None)
    assert named.returncode == default.returncode == 0, named.stderr + default.stderr
    named_png, default_png = (read_parameters(saved_path(done.stdout)) for done in (named, default))
    assert {**named_png, "created": ""} == {**default_png, "created": ""}


def readme_cli_examples() -> list[str]:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    section = text.split("## Command line", 1)[1].split("\n## ", 1)[0]
    block = section.split("```bash\n", 1)[1].split("```", 1)[0]
    return [line for line in block.splitlines() if line.startswith("python -m dalle3")]


def test_readme_cli_examples_work_with_an_ordinary_key_today(tmp_path, fake_api):
    """An ordinary OpenAI key: dall-e-3 is not offered. Every example works but the one that says it needs it."""
    fake_api.retired_models = {"dall-e-3"}
    examples = readme_cli_examples()
    Image.new("RGB", (1024, 1024), (90, 140, 200)).save(tmp_path / "photo.jpg")  # the user's own images
    Image.new("RGBA", (256, 256), (200, 30, 30, 255)).save(tmp_path / "logo.png")
    sky = Image.new("RGBA", (1024, 1024), (0, 0, 0, 255))
    sky.paste((0, 0, 0, 0), (0, 0, 1024, 400))  # transparent where the sky may change
    sky.save(tmp_path / "sky.png")
    assert len(examples) >= 5 and any("--model gpt-image-2" in e for e in examples)
    for example in examples:
        command, _, comment = example.partition("#")
        done = run_cli(tmp_path, *cli_args(command), fake=fake_api)
        if "dall-e-3" in command:
            assert "needs an endpoint that still serves dall-e-3" in comment, example
            assert done.returncode == 1 and "dalle3: run instead: python -m dalle3 " in done.stderr, example
        else:
            assert done.returncode == 0, f"{example}\n{done.stderr}"
    assert {"gpt-image-2", "dall-e-3"} <= {r.json["model"] for r in fake_api.requests}  # both kinds really ran
