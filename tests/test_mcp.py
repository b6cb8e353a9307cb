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
import urllib.request
from typing import Any, Iterator

import pytest

from dalle3 import Settings, Studio, api_docs, page
from dalle3.metadata import png_size, read_parameters
from dalle3.models import ALL_QUALITIES

MCP_MISSING = "the MCP server needs the gradio[mcp] extra: pip install 'gradio[mcp]==6.31.0'"


@pytest.fixture(scope="module")
def mcp_url(tmp_path_factory) -> Iterator[str]:
    """The page served in-process with ``mcp_server=True`` and the offline simulator."""
    if importlib.util.find_spec("mcp") is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(MCP_MISSING)
        pytest.skip(MCP_MISSING)
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


def test_only_the_generate_edit_and_chat_endpoints_are_tools(mcp_url):
    with urllib.request.urlopen(f"{mcp_url}/schema", timeout=30) as response:
        tools = json.load(response)
    assert [t["meta"]["endpoint_name"] for t in tools] == ["generate", "edit", "chat"]


def test_generate_tool_describes_itself(mcp_url):
    tool = generate_tool(mcp_url)
    assert tool["name"] == "generate"  # as the README names it
    assert tool["description"].startswith("Generate one image with OpenAI's DALL·E 3")
    assert "Returns:" in tool["description"]


def test_generate_tool_parameters_follow_the_model_table(mcp_url):
    schema = generate_tool(mcp_url)["inputSchema"]
    props = schema["properties"]
    assert schema["required"] == ["prompt"]
    assert list(props) == list(api_docs.api_arguments())  # the model table's parameters, in order
    assert list(props)[:6] == ["prompt", "seed", "quality", "style", "size", "model"]
    assert {*page.EXTRA_NAMES, "output_format", "output_compression"} <= set(props)
    assert "api_key" not in props  # own keys travel in a header, never as an input
    assert props["prompt"]["type"] == "string" and props["seed"]["type"] == "integer"
    for name in list(props)[2:]:
        assert props[name]["type"] == "string" and "enum" not in props[name], name  # custom WxH, listed ids
        assert props[name].get("default", "") == "", name  # empty: the model's own default
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
