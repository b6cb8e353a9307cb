"""``python app.py --mcp``: the generate endpoint as an MCP tool an agent can use unaided.

Needs the ``gradio[mcp]`` extra. Without it these tests skip on a developer's
machine but fail in CI (``CI=true``), where requirements-dev.txt installs it.
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import os
import urllib.request
from typing import Any, Iterator

import pytest

from dalle3 import Settings, Studio
from dalle3.models import ALL_QUALITIES, ALL_SIZES, MODELS

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
    demo.queue()
    _, url, _ = demo.launch(prevent_thread_lock=True, server_name="127.0.0.1", quiet=True, mcp_server=True,
                            run_history=False, allowed_paths=[str(studio.output_dir)])
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


def test_only_the_generate_endpoint_is_a_tool(mcp_url):
    with urllib.request.urlopen(f"{mcp_url}/schema", timeout=30) as response:
        tools = json.load(response)
    assert [t["meta"]["endpoint_name"] for t in tools] == ["generate"]


def test_generate_tool_describes_itself(mcp_url):
    tool = generate_tool(mcp_url)
    assert tool["name"] == "api_generate"
    assert tool["description"].startswith("Generate one image with OpenAI's DALL·E 3")
    assert "Returns:" in tool["description"]


def test_generate_tool_parameters_are_typed_with_allowed_values(mcp_url):
    schema = generate_tool(mcp_url)["inputSchema"]
    props = schema["properties"]
    assert schema["required"] == ["prompt"]
    assert list(props) == ["prompt", "seed", "quality", "style", "size", "model", "background", "moderation",
                           "complexity", "api_key"]
    assert props["prompt"]["type"] == "string"
    assert props["seed"]["type"] == "integer"
    assert props["quality"]["enum"] == list(ALL_QUALITIES)
    assert {"standard", "hd", "low", "medium", "high", "auto"} <= set(props["quality"]["enum"])
    assert props["style"]["enum"] == ["natural", "vivid"]
    assert props["size"]["enum"] == list(ALL_SIZES)
    assert props["model"]["enum"] == list(MODELS)
    assert props["background"]["enum"] == ["", "auto", "opaque", "transparent"]
    assert (props["quality"]["default"], props["style"]["default"], props["model"]["default"]) == (
        "standard", "natural", "dall-e-3")


def test_every_parameter_has_its_whole_description(mcp_url):
    props = generate_tool(mcp_url)["inputSchema"]["properties"]
    for name, prop in props.items():
        assert prop.get("description", "").endswith((".", ")")), (name, prop.get("description"))
    assert "New seed, new image." in props["seed"]["description"]
    assert "multiples of 16" in props["size"]["description"]


def _call(mcp_url: str, arguments: dict[str, Any]) -> tuple[bool, str]:
    from mcp import ClientSession
    from mcp.client import streamable_http

    # mcp 1.2x renamed streamablehttp_client; gradio[mcp] allows any mcp 1.21+.
    connect = getattr(streamable_http, "streamable_http_client", None) or streamable_http.streamablehttp_client

    async def go() -> tuple[bool, str]:
        async with connect(f"{mcp_url}/") as (read, write, _):
            async with ClientSession(read, write) as session:
                await session.initialize()
                result = await session.call_tool("api_generate", arguments)
                return result.isError, " ".join(getattr(c, "text", "") or "" for c in result.content)

    return asyncio.run(asyncio.wait_for(go(), 60))


def test_an_agent_can_generate_through_mcp(mcp_url):
    failed, text = _call(mcp_url, {"prompt": "a lighthouse at dawn", "seed": 5})
    assert not failed, text
    assert "a-lighthouse-at-dawn_seed5.png" in text
    assert "Simulated" in text


def test_an_agent_sees_the_plain_validation_message(mcp_url):
    failed, text = _call(mcp_url, {"prompt": "a fox", "quality": "low", "model": "dall-e-3"})
    assert failed
    assert "Quality 'low' is not available for dall-e-3. Choose one of: standard, hd." in text
