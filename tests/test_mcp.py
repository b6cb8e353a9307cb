"""``python app.py --mcp``: the generate endpoint as an MCP tool an agent can use unaided.

Needs the ``gradio[mcp]`` extra. Without it these tests skip on a developer's
machine but fail in CI (``CI=true``), where requirements-dev.txt installs it.
"""

from __future__ import annotations

import asyncio
import base64
import importlib.util
import json
import os
import tempfile
import urllib.error
import urllib.request
from typing import Any, Iterator

import pytest

from dalle3 import Settings, Studio
from dalle3.views import api_docs, studio_view
from dalle3.files.metadata import png_size, read_parameters
from dalle3.models import ALL_QUALITIES

MCP_MISSING = "the MCP server needs the gradio[mcp] extra: pip install 'gradio[mcp]==6.31.0'"


def needs_mcp() -> None:
    if importlib.util.find_spec("mcp") is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(MCP_MISSING)
        pytest.skip(MCP_MISSING)


@pytest.fixture(scope="module")
def mcp_url(tmp_path_factory) -> Iterator[str]:
    """The page served in-process with ``mcp_server=True`` and the offline simulator."""
    needs_mcp()
    from tests.apphelpers import app  # sets Gradio's test environment before importing it

    studio = Studio(Settings(offline=True, output_dir=tmp_path_factory.mktemp("mcp-out")))
    demo = app.build(studio)
    url = app.serve(demo, studio, server_name="127.0.0.1", quiet=True, mcp_server=True)
    try:
        yield url.rstrip("/") + "/gradio_api/mcp"
    finally:
        demo.close()


def generate_tool(mcp_url: str) -> dict[str, Any]:
    with urllib.request.urlopen(f"{mcp_url}/schema", timeout=30) as response:
        tools = json.load(response)
    matching = [t for t in tools if t["meta"]["endpoint_name"] == "generate"]
    assert len(matching) == 1, [t["name"] for t in tools]
    return matching[0]


def test_only_the_generate_edit_job_and_chat_endpoints_are_tools(mcp_url):
    with urllib.request.urlopen(f"{mcp_url}/schema", timeout=30) as response:
        tools = json.load(response)
    assert [t["meta"]["endpoint_name"] for t in tools] == ["generate", "edit", "batch", "batch_status",
                                                           "batch_cancel", "chat"]


def test_generate_tool_describes_itself(mcp_url):
    tool = generate_tool(mcp_url)
    assert tool["name"] == "generate"  # as the README names it
    assert tool["description"].startswith("Make 1-10 images from a text prompt with OpenAI's image models")
    assert "Costs money" in tool["description"] and "structured content" in tool["description"]
    assert "upload_file_to_gradio" not in tool["description"] and "Markdown" not in tool["description"]


def test_generate_tool_parameters_follow_the_model_table(mcp_url):
    schema = generate_tool(mcp_url)["inputSchema"]
    props = schema["properties"]
    assert schema["required"] == ["prompt"] and schema["additionalProperties"] is False
    assert list(props) == list(api_docs.api_arguments())  # the model table's parameters, in order
    assert list(props)[:6] == ["prompt", "seed", "quality", "style", "size", "model"]
    assert {*studio_view.EXTRA_NAMES, "output_format", "output_compression"} <= set(props)
    assert "api_key" not in props  # own keys travel in a header, never as an input
    assert props["prompt"]["type"] == "string"
    for name in ("seed", "n", "output_compression"):
        assert props[name]["type"] == "integer", name
    assert (props["n"]["minimum"], props["n"]["maximum"]) == (1, 10)
    for name in ("size", "model"):  # a custom WxH, an id the endpoint lists: free text, checked by the app
        assert props[name]["type"] == "string" and "enum" not in props[name], name
    assert props["quality"]["enum"] == list(ALL_QUALITIES)
    assert props["background"]["enum"] == ["auto", "opaque", "transparent"]
    assert props["output_format"]["enum"] == ["png", "webp", "jpeg"]
    assert all("default" not in prop for prop in props.values())  # left out: the model's own default
    for value in ALL_QUALITIES:
        assert value in props["quality"]["description"]
    assert "32,000" in props["prompt"]["description"] and "4,000" in props["prompt"]["description"]


def test_every_parameter_has_its_whole_description(mcp_url):
    props = generate_tool(mcp_url)["inputSchema"]["properties"]
    for name, prop in props.items():
        assert prop.get("description", "").endswith((".", ")")), (name, prop.get("description"))
    assert "New seed, new image." in props["seed"]["description"]
    assert "multiples of 16" in props["size"]["description"]


def _call(mcp_url: str, arguments: dict[str, Any]) -> tuple[bool, list[Any]]:
    return call_tool(mcp_url, "generate", arguments)


def call_tool(mcp_url: str, tool: str, arguments: dict[str, Any]) -> tuple[bool, list[Any]]:
    from mcp import ClientSession
    from mcp.client import streamable_http

    # mcp 1.2x renamed streamablehttp_client; gradio[mcp] allows any mcp 1.21+.
    connect = getattr(streamable_http, "streamable_http_client", None) or streamable_http.streamablehttp_client

    async def go() -> tuple[bool, list[Any]]:
        async with connect(f"{mcp_url}/") as (read, write, _):
            async with ClientSession(read, write) as session:
                await session.initialize()
                result = await session.call_tool(tool, arguments)
                return result.isError, result.content

    return asyncio.run(asyncio.wait_for(go(), 60))


def test_an_agent_gets_the_image_and_the_facts_as_json(mcp_url):
    failed, content = _call(mcp_url, {"prompt": "a lighthouse at dawn", "seed": 5, "model": "gpt-image-2",
                                      "size": "1536x864"})
    assert not failed, content
    images = [c for c in content if c.type == "image"]
    texts = [c.text for c in content if c.type == "text"]
    assert len(images) == 1 and images[0].mimeType == "image/png"
    png = base64.b64decode(images[0].data)
    assert png_size(png) == (1536, 864) and read_parameters(png)["prompt"] == "a lighthouse at dawn"
    facts = json.loads(texts[0])  # JSON, never a Python repr
    assert (facts["model"], facts["size"], facts["seed"], facts["backend"]) == ("gpt-image-2", "1536x864", 5,
                                                                                "simulator")
    assert facts["file"].endswith("a-lighthouse-at-dawn_seed5.png")
    everything = " ".join(texts)
    assert "/tmp" not in everything and "'path'" not in everything and tempfile.gettempdir() not in everything


def test_an_agent_sees_the_plain_validation_message(mcp_url):
    failed, content = _call(mcp_url, {"prompt": "a fox", "quality": "low", "model": "dall-e-3"})
    text = " ".join(getattr(c, "text", "") for c in content)
    assert failed
    assert "Quality 'low' is not available for dall-e-3. Choose one of: standard, hd." in text


def test_DALLE3_MCP_alone_turns_the_server_on_for_plain_python_app_py(tmp_path):
    """A Space runs ``python app.py`` with no arguments: the variable is the only switch it has."""
    from tests.app_process import app_process

    needs_mcp()
    (tmp_path / "on").mkdir()
    (tmp_path / "off").mkdir()
    env = {"DALLE3_OFFLINE": "1", "GRADIO_MCP_SERVER": ""}
    with app_process(tmp_path / "on", {**env, "DALLE3_MCP": "1"}) as app:
        with urllib.request.urlopen(f"{app.url}gradio_api/mcp/schema", timeout=30) as response:
            tools = json.load(response)
    assert {"generate", "edit"} <= {t["meta"]["endpoint_name"] for t in tools}
    with app_process(tmp_path / "off", {**env, "DALLE3_MCP": "0"}) as app:
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(f"{app.url}gradio_api/mcp/schema", timeout=30)
    assert refused.value.code == 404


def test_a_bad_DALLE3_MCP_stops_start_up_naming_the_variable():
    from dalle3.errors import ConfigurationError
    from dalle3.settings import from_env

    assert from_env({"DALLE3_MCP": "1"}).mcp and not from_env({}).mcp
    with pytest.raises(ConfigurationError, match="DALLE3_MCP='maybe'"):
        from_env({"DALLE3_MCP": "maybe"})


def test_an_agent_runs_a_job_and_asks_how_it_went(mcp_url):
    failed, content = call_tool(mcp_url, "batch", {"template": "a {red|blue} kite", "model": "gpt-image-2",
                                                   "mode": "now"})
    assert not failed, content
    job = json.loads(content[0].text)
    assert job["count"] == 2 and job["kind"] == "now"
    for _ in range(50):
        failed, content = call_tool(mcp_url, "batch_status", {"job_id": job["id"]})
        report = json.loads(content[0].text)
        if report["status"] != "running":
            break
    assert report["status"] == "done" and [r["ok"] for r in report["results"]] == [True, True]
    assert tempfile.gettempdir() not in content[0].text
    failed, content = call_tool(mcp_url, "batch", {"prompts": "a fox"})
    assert failed and "needs an OpenAI API key" in " ".join(getattr(c, "text", "") for c in content)
