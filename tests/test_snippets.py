"""Copy as code: each snippet, run against the fake, sends the body the app sent."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from dalle3 import Studio, validate
from dalle3.files.metadata import read_parameters
from dalle3.views.api_docs import api_arguments
from dalle3.views.snippets import request_from_parameters, snippets
from tests.apphelpers import SERVER_KEY, app_settings, running_app
from tests.fake_openai import FakeOpenAI

REPO = Path(__file__).resolve().parents[1]
OWN_KEY = "sk-snippet-test-OWN-0123456789abcdef"
HOSTILE = "it's \"quoted\" $HOME `date` \\ back\nslash; 🦊 שלום NUL\x00 bell\x07 <b>x</b> '; rm -rf / #"
REQUESTS = [
    dict(prompt=HOSTILE, seed=7, quality="hd", style="vivid", size="1792x1024", model="dall-e-3"),
    dict(prompt="a fox, transparent", seed=3, quality="high", size="1536x1024", model="gpt-image-2.6-flare",
         extras={"background": "transparent", "complexity": "high"}),
    dict(prompt="a fox as webp", model="gpt-image-2", quality="low", output_format="webp", output_compression=60),
]
IDS = ["dall-e-3-hostile-prompt", "gpt-image-2.6-extras", "gpt-image-2-webp"]


def app_body(fake: FakeOpenAI, tmp_path: Path, spec: dict) -> dict:
    """What the app itself sends for ``spec`` (a fresh Studio: no cache)."""
    studio = Studio(app_settings(fake.base_url, tmp_path / "ref"))
    fake.reset()
    studio.generate(validate(**spec))
    return fake.requests[-1].json


def saved_image(tmp_path: Path, spec: dict) -> bool:
    """The snippet wrote the decoded image under the right extension."""
    if spec.get("output_format") == "webp":
        return (tmp_path / "image.webp").read_bytes()[8:12] == b"WEBP"
    return (tmp_path / "image.png").read_bytes().startswith(b"\x89PNG")


def run(command: list[str], tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "DALLE3_"))}
    bin_dir = tmp_path / "bin"  # the curl snippet pipes into python3: make it this interpreter
    bin_dir.mkdir(exist_ok=True)
    if not (bin_dir / "python3").exists():
        (bin_dir / "python3").symlink_to(sys.executable)
    clean.update(PATH=f"{bin_dir}{os.pathsep}{clean.get('PATH', '')}", PYTHONPATH=str(REPO), OPENAI_API_KEY=OWN_KEY,
                 **env)
    return subprocess.run(command, cwd=tmp_path, env=clean, capture_output=True, text=True, timeout=90)


@pytest.mark.parametrize("spec", REQUESTS, ids=IDS)
def test_curl_snippet_sends_the_apps_body(fake_api, tmp_path, spec):
    if shutil.which("curl") is None or shutil.which("bash") is None:
        pytest.skip("needs the curl and bash binaries")
    expected = app_body(fake_api, tmp_path, spec)
    code = snippets(validate(**spec), base_url=fake_api.base_url).curl
    assert OWN_KEY not in code and SERVER_KEY not in code and "$OPENAI_API_KEY" in code
    fake_api.reset()
    done = run(["bash", "-c", code], tmp_path)
    assert done.returncode == 0, done.stderr
    seen = fake_api.requests[-1]
    assert seen.json == expected and seen.headers["authorization"] == f"Bearer {OWN_KEY}"
    assert saved_image(tmp_path, spec)


@pytest.mark.parametrize("spec", REQUESTS, ids=IDS)
def test_openai_sdk_snippet_sends_the_apps_body(fake_api, tmp_path, spec):
    expected = app_body(fake_api, tmp_path, spec)
    code = snippets(validate(**spec), base_url=fake_api.base_url).python
    assert OWN_KEY not in code and 'os.environ["OPENAI_API_KEY"]' in code
    compile(code, "snippet", "exec")
    fake_api.reset()
    done = run([sys.executable, "-c", code], tmp_path)
    assert done.returncode == 0, done.stderr
    seen = fake_api.requests[-1]
    assert seen.json == expected and seen.headers["authorization"] == f"Bearer {OWN_KEY}"
    assert saved_image(tmp_path, spec)


def test_a_visitors_safety_identifier_stays_out_of_snippets():
    request = validate("a fox", model="gpt-image-2", safety_identifier="visitor-hmac-0123456789abcdef")
    code = snippets(request)
    assert all("visitor-hmac" not in text and "safety_identifier" not in text
               for text in (code.curl, code.python, code.gradio))


def test_credentials_in_a_base_url_never_reach_a_snippet():
    code = snippets(validate("a fox"), base_url="https://user:hunter2@proxy.example/v1?key=sk-abc#x",
                    page_url="https://me:pw@studio.example/")
    for text in (code.curl, code.python, code.gradio):
        assert "hunter2" not in text and "sk-abc" not in text and "me:pw" not in text
    assert "https://proxy.example/v1/images/generations" in code.curl and "'https://studio.example/'" in code.gradio
    assert "Client('me/studio'" in snippets(validate("a fox"), page_url="me/studio").gradio


def test_openai_snippet_for_the_real_endpoint_names_no_base_url():
    code = snippets(validate("a fox")).python
    assert "base_url" not in code and "OpenAI(api_key=os.environ[\"OPENAI_API_KEY\"])" in code


def test_gradio_client_snippet_calls_this_page_with_the_same_request(fake_api, tmp_path):
    expected = [app_body(fake_api, tmp_path, spec) for spec in [*REQUESTS, BATCH]]
    with running_app(app_settings(fake_api.base_url, tmp_path / "out")) as served:
        with served.connected() as client:
            names = [p["parameter_name"] for p in
                     client.view_api(return_format="dict", print_info=False)["named_endpoints"]["/generate"]["parameters"]]
        assert names == list(api_arguments())  # the snippet's names are the page's /generate parameters
        for spec, body in zip([*REQUESTS, BATCH], expected):
            code = snippets(validate(**spec), page_url=served.url).gradio
            assert OWN_KEY not in code and SERVER_KEY not in code and "not parameters" not in code
            fake_api.reset()
            done = run([sys.executable, "-c", code], tmp_path)
            assert done.returncode == 0, done.stderr
            seen = fake_api.requests[-1]
            assert seen.json == body and seen.headers["authorization"] == f"Bearer {OWN_KEY}"
            assert "'cost_usd'" in done.stdout  # the facts the page returned


def test_snippets_rebuild_from_a_saved_pngs_parameters(fake_api, tmp_path):
    studio = Studio(app_settings(fake_api.base_url, tmp_path / "out"))
    result = studio.generate(validate(**REQUESTS[0]))
    request = request_from_parameters(read_parameters(result.path))
    assert request == result.request
    assert snippets(request, fake_api.base_url) == snippets(result.request, fake_api.base_url)
    assert request_from_parameters({"prompt": ""}) is None and request_from_parameters(None) is None


def test_stored_parameters_give_the_same_request_to_code_and_to_restore():
    """One way back from stored parameters: the snippet keeps n as restoring into the page does."""
    from dalle3.views.studio_view import restore

    stored = {"prompt": "four owls", "model": "gpt-image-2", "quality": "low", "size": "1024x1024", "n": 4,
              "seed": 3, "output_format": "webp", "output_compression": 80, "background": "opaque"}
    request = request_from_parameters(stored)
    restored = restore(stored)
    assert request is not None and restored is not None
    assert request.n == restored.request.n == 4
    assert restored.request == request  # the snippet and the restore read stored parameters one way
    assert request.output_format == "webp" and request.options["background"] == "opaque"


# --- every request: a batch, a streamed call, an edit with a mask, an edit with a markup -----------

BATCH = dict(prompt="three foxes", model="gpt-image-2", quality="low", n=3, output_format="jpeg")
STREAMED = dict(prompt="a fox, streamed", model="gpt-image-2", quality="low", seed=4)
EDITS = {
    "mask": (dict(prompt="a stormy sky", model="gpt-image-2", n=2, quality="low"), ("photo 1.png", "sky mask.png")),
    "markup": (dict(prompt="@a kite where the red line is", model="gpt-image-2.5-flare", quality="low"),
               ("photo 1.png", "strokes.png")),
}


def write_edit_files(folder: Path, kind: str, names: tuple[str, str]) -> dict[str, bytes]:
    """The person's files, as they have them: a photo and a mask (or a markup) beside it."""
    from PIL import Image

    photo = Image.new("RGB", (1024, 1024), (90, 140, 200))
    extra = Image.new("RGBA", (1024, 1024), (0, 0, 0, 255) if kind == "mask" else (0, 0, 0, 0))
    extra.paste((0, 0, 0, 0) if kind == "mask" else (255, 0, 0, 255), (0, 0, 1024, 400) if kind == "mask"
                else (100, 100, 400, 120))
    data = {}
    for name, image in zip(names, (photo, extra)):
        image.save(folder / name)
        data[name] = (folder / name).read_bytes()
    return data


def app_edit(fake: FakeOpenAI, tmp_path: Path, kind: str, page_url: str = "http://127.0.0.1:7860/"
             ) -> tuple[object, object, object]:
    """What the app itself sends for the edit: (request, the fake's record, the code panel's snippets)."""
    from dalle3.views.edit_snippets import code_for
    from dalle3.edits.inputs import prepare_edit
    from dalle3.params import profile_for
    from dalle3.views.session import SessionState

    spec, names = EDITS[kind]
    data = write_edit_files(tmp_path, kind, names)
    request = validate(**spec)
    studio = Studio(app_settings(fake.base_url, tmp_path / "ref"))
    inputs = prepare_edit(profile_for(request.model), [data[names[0]]], **{kind: data[names[1]]})
    fake.reset()
    result = studio.edit(request, inputs)
    entry = SessionState().after(result, names).history[0]
    code = code_for(entry.parameters, names=entry.files, base_url=fake.base_url, page_url=page_url)
    return request, fake.edit_requests[-1], code


def same_edit(seen, expected) -> None:
    assert seen.path.endswith("/images/edits") and seen.form == expected.form
    assert [p.name for p in seen.files] == [p.name for p in expected.files]


def test_a_batch_is_asked_and_saved_as_a_batch_by_curl_and_the_sdk(fake_api, tmp_path):
    if shutil.which("curl") is None or shutil.which("bash") is None:
        pytest.skip("needs the curl and bash binaries")
    expected = app_body(fake_api, tmp_path, BATCH)
    code = snippets(validate(**BATCH), base_url=fake_api.base_url)
    for command in (["bash", "-c", code.curl], [sys.executable, "-c", code.python]):
        fake_api.reset()
        done = run(command, tmp_path)
        assert done.returncode == 0, done.stderr
        assert fake_api.requests[-1].json == expected and expected["n"] == 3
        assert [(tmp_path / f"image-{i}.jpg").read_bytes()[:2] for i in (1, 2, 3)] == [b"\xff\xd8"] * 3
        for i in (1, 2, 3):
            (tmp_path / f"image-{i}.jpg").unlink()


def test_a_streamed_request_is_streamed_by_curl_and_the_sdk(fake_api, tmp_path):
    if shutil.which("curl") is None or shutil.which("bash") is None:
        pytest.skip("needs the curl and bash binaries")
    studio = Studio(app_settings(fake_api.base_url, tmp_path / "ref"))
    fake_api.reset()
    result = studio.generate(validate(**STREAMED), previews=1, on_preview=lambda preview: None)
    expected = fake_api.requests[-1].json
    assert expected["stream"] is True and expected["partial_images"] == 1 and result.previews == 1
    from dalle3.views.edit_snippets import code_for
    from dalle3.views.session import SessionState

    entry = SessionState().after(result).history[0]
    code = code_for(entry.parameters, previews=entry.previews, base_url=fake_api.base_url)
    assert code is not None and "1 preview first" in code.gradio
    for command in (["bash", "-c", code.curl], [sys.executable, "-c", code.python]):
        fake_api.reset()
        done = run(command, tmp_path)
        assert done.returncode == 0, done.stderr
        assert fake_api.requests[-1].json == expected
        assert (tmp_path / "image.png").read_bytes().startswith(b"\x89PNG")
        (tmp_path / "image.png").unlink()


@pytest.mark.parametrize("kind", list(EDITS))
def test_an_edit_is_posted_as_multipart_with_the_persons_files(fake_api, tmp_path, kind):
    if shutil.which("curl") is None or shutil.which("bash") is None:
        pytest.skip("needs the curl and bash binaries")
    request, expected, code = app_edit(fake_api, tmp_path, kind)
    assert "moderation" not in expected.form and "images/generations" not in code.curl + code.python
    assert "'photo 1.png'" in code.python and "image[]=@photo 1.png" in code.curl
    for command in (["bash", "-c", code.curl], [sys.executable, "-c", code.python]):
        fake_api.reset()
        done = run(command, tmp_path)
        assert done.returncode == 0, done.stderr
        same_edit(fake_api.edit_requests[-1], expected)
        made = sorted(p.name for p in tmp_path.glob("image*.png"))
        assert made == (["image-1.png", "image-2.png"] if request.n == 2 else ["image.png"])
        for name in made:
            (tmp_path / name).unlink()


def test_gradio_client_snippets_call_edit_with_the_persons_files(fake_api, tmp_path):
    with running_app(app_settings(fake_api.base_url, tmp_path / "out")) as served:
        for kind in EDITS:
            _, expected, code = app_edit(fake_api, tmp_path, kind, page_url=served.url)
            assert 'api_name="/edit"' in code.gradio and "handle_file('photo 1.png')" in code.gradio
            assert "moderation" not in code.gradio
            fake_api.reset()
            done = run([sys.executable, "-c", code.gradio], tmp_path)
            assert done.returncode == 0, done.stderr
            same_edit(fake_api.edit_requests[-1], expected)
            assert "'cost_usd'" in done.stdout


def test_edit_files_keep_the_persons_names_as_plain_names_in_this_folder():
    from dalle3.views.edit_snippets import edit_files

    files = edit_files({"references": ["a", "b", "c"], "markup": "m", "input_fidelity": "high"},
                       ["../../secret/photo.jpg", "line\nbreak.png"])
    assert files is not None
    assert files.images == ("photo.jpg", "line_break.png", "reference-3.png")
    assert (files.mask, files.markup, files.input_fidelity) == (None, "markup.png", "high")
    assert edit_files({"prompt": "a generation"}) is None
