"""The MCP tools driven by the official ``mcp`` client, as an agent no one here wrote would drive them.

List, then call each tool with integers and enums, and hold every ``structuredContent`` to the
tool's ``outputSchema`` with jsonschema.
"""

from __future__ import annotations

import asyncio
import base64
import importlib.util
import io
import json
import os
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Iterator

import jsonschema
import pytest
from PIL import Image

from dalle3 import Settings, Studio
from dalle3.files.metadata import read_parameters
from dalle3.version import __version__
from tests.test_mcp import MCP_MISSING


@pytest.fixture(scope="module")
def served(tmp_path_factory) -> Iterator[tuple[str, Path]]:
    """The page with ``--mcp``, the offline simulator and the library on (served on loopback)."""
    if importlib.util.find_spec("mcp") is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(MCP_MISSING)
        pytest.skip(MCP_MISSING)
    from dalle3.library import Library
    from tests.apphelpers import app

    out = tmp_path_factory.mktemp("mcp-tools-out")
    library = Library(out)
    library.start()
    studio = Studio(Settings(offline=True, output_dir=out), library=library)
    demo = app.build(studio)
    url = app.serve(demo, studio, server_name="127.0.0.1", quiet=True, mcp_server=True)
    try:
        yield url.rstrip("/") + "/gradio_api/mcp/", out
    finally:
        demo.close()
        library.close()


def session(url: str, work: Any) -> Any:
    """Run ``work(session, initialize_result)`` in one client session of the official SDK."""
    from mcp import ClientSession
    from mcp.client import streamable_http

    connect = getattr(streamable_http, "streamable_http_client", None) or streamable_http.streamablehttp_client

    async def go() -> Any:
        async with connect(url) as (read, write, _):
            async with ClientSession(read, write) as s:
                init = await s.initialize()
                return await work(s, init)

    return asyncio.run(asyncio.wait_for(go(), 90))


def listed(url: str) -> tuple[Any, dict[str, Any]]:
    async def work(s: Any, init: Any) -> tuple[Any, dict[str, Any]]:
        return init, {t.name: t for t in (await s.list_tools()).tools}

    return session(url, work)


def call(url: str, name: str, arguments: dict[str, Any]) -> tuple[Any, Any]:
    """The tool's result and its definition (as listed in the same session)."""
    async def work(s: Any, init: Any) -> tuple[Any, Any]:
        tools = {t.name: t for t in (await s.list_tools()).tools}
        return await s.call_tool(name, arguments), tools[name]

    return session(url, work)


def structured(result: Any, tool: Any) -> dict[str, Any]:
    """The structured facts, checked against the tool's outputSchema and against the JSON text beside them."""
    assert not result.isError, [getattr(c, "text", c.type) for c in result.content]
    jsonschema.validate(result.structuredContent, tool.outputSchema)
    texts = [json.loads(c.text) for c in result.content if c.type == "text"]
    assert texts and texts[-1] == result.structuredContent
    return result.structuredContent


def data_url(img: Image.Image) -> str:
    buffer = io.BytesIO()
    img.save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


TOOLS = ["generate", "edit", "batch", "batch_status", "batch_cancel", "chat", "models", "library"]
BILLED = ("generate", "edit", "batch", "chat")


def test_the_server_names_the_apps_version_and_every_tool_is_plain_json_schema(served):
    init, tools = listed(served[0])
    assert init.serverInfo.version == __version__
    assert list(tools) == TOOLS
    for tool in tools.values():
        jsonschema.Draft202012Validator.check_schema(tool.inputSchema)
        jsonschema.Draft202012Validator.check_schema(tool.outputSchema)
        assert tool.inputSchema["additionalProperties"] is False, tool.name
        assert tool.outputSchema["type"] == "object" and tool.outputSchema["properties"], tool.name
        assert tool.title and tool.annotations is not None and tool.annotations.title == tool.title, tool.name
        text = json.dumps(tool.inputSchema) + tool.description
        for leftover in ("FileData", "$ref", "upload_file_to_gradio", "Markdown", '"required": ["path"]'):
            assert leftover not in text, (tool.name, leftover)
        for name, prop in tool.inputSchema["properties"].items():
            assert prop.get("description"), (tool.name, name)
            assert "Empty:" not in prop["description"] and "(empty:" not in prop["description"], (tool.name, name)


def test_billed_tools_say_so_and_the_job_lookups_are_marked_free_or_destructive(served):
    _, tools = listed(served[0])
    for name in BILLED:
        notes = tools[name].annotations
        assert (notes.readOnlyHint, notes.openWorldHint, notes.destructiveHint) == (False, True, False), name
        assert "Costs money" in tools[name].description and "X-OpenAI-Api-Key" in tools[name].description, name
        assert "models tool" in tools[name].description, name
    assert tools["models"].annotations.readOnlyHint and tools["library"].annotations.readOnlyHint
    assert tools["library"].annotations.openWorldHint is False
    status, cancel = tools["batch_status"], tools["batch_cancel"]
    assert status.annotations.readOnlyHint is True and status.annotations.destructiveHint is False
    assert cancel.annotations.destructiveHint is True and cancel.annotations.readOnlyHint is False
    assert cancel.annotations.idempotentHint is True and tools["batch"].annotations.idempotentHint is False
    for tool in (status, cancel):
        assert "Costs money" not in tool.description and "free" in tool.description.lower()
        assert "the batch tool" in tool.description  # named by its real name
    assert "the batch_status tool" in tools["batch"].description
    edit = tools["edit"].inputSchema["properties"]
    assert edit["images"]["type"] == "array" and edit["images"]["items"]["type"] == "string"
    assert edit["mask"] == {"type": "string", "description": edit["mask"]["description"]}
    assert edit["input_fidelity"]["enum"] == ["low", "high"]


def test_the_job_and_chat_inputs_are_typed(served):
    _, tools = listed(served[0])
    batch = tools["batch"].inputSchema["properties"]
    assert batch["mode"]["enum"] == ["batch", "now"]
    assert list(batch) == ["prompts", "template", "lists", "axes", "settings", "model", "mode", "images", "mask"]
    assert batch["images"]["type"] == "array" and batch["images"]["items"]["type"] == "string"
    assert batch["axes"]["description"].endswith("seed).")  # the whole line, not its first half
    chat = tools["chat"].inputSchema
    assert chat["required"] == ["text"]
    props = chat["properties"]
    assert (props["from_turn"]["type"], props["output_compression"]["type"]) == ("integer", "integer")
    assert props["action"]["enum"] == ["auto", "generate", "edit"]
    assert "standard" not in props["quality"]["enum"] and "high" in props["quality"]["enum"]  # the image tool's
    assert "dall-e-3" not in props["image_model"]["examples"] and "gpt-5.4-mini" in props["model"]["examples"]
    assert tools["batch_status"].inputSchema["properties"]["job_id"]["type"] == "string"


def test_generate_with_integers_and_enums_returns_every_image_and_structured_facts(served):
    url, out = served
    result, tool = call(url, "generate", {"prompt": "two foxes", "seed": 3, "n": 2, "model": "gpt-image-2",
                                          "quality": "low", "background": "opaque", "output_format": "webp",
                                          "output_compression": 80})
    facts = structured(result, tool)
    assert (facts["n"], facts["quality"], facts["output_format"], facts["output_compression"]) == (2, "low", "webp",
                                                                                                  80)
    assert facts["extras"]["background"] == "opaque" and facts["backend"] == "simulator"
    images = [c for c in result.content if c.type == "image"]
    assert len(images) == 2 and {i.mimeType for i in images} == {"image/webp"}
    assert [read_parameters(out / f)["batch_index"] for f in facts["files"]] == [0, 1]


def test_a_refused_value_is_an_error_with_the_apps_sentence(served):
    result, _ = call(served[0], "generate", {"prompt": "a harbour", "model": "gpt-image-2", "size": "1920x1080"})
    assert result.isError and result.structuredContent is None
    assert result.content[0].text.endswith("1920x1088 is the nearest allowed.")
    result, _ = call(served[0], "generate", {"prompt": "a harbour", "quality": "ultra"})
    assert result.isError and "is not one of" in result.content[0].text  # the enum, checked by the client's server


def test_edit_with_a_mask_and_with_a_markup(served):
    photo = Image.new("RGB", (1024, 1024), (90, 140, 200))
    mask = Image.new("RGBA", (1024, 1024), (0, 0, 0, 255))
    mask.paste((0, 0, 0, 0), (0, 0, 1024, 400))
    result, tool = call(served[0], "edit", {"prompt": "a stormy sky", "images": [data_url(photo)],
                                            "mask": data_url(mask), "n": 2, "model": "gpt-image-2"})
    facts = structured(result, tool)
    assert facts["n"] == 2 and len(facts["references"]) == 1 and "mask" in facts
    assert len([c for c in result.content if c.type == "image"]) == 2
    markup = Image.new("RGBA", (1024, 1024), (0, 0, 0, 0))
    markup.paste((255, 0, 0, 255), (100, 100, 300, 120))
    result, tool = call(served[0], "edit", {"prompt": "a red kite here", "images": [data_url(photo)],
                                            "markup": data_url(markup), "model": "gpt-image-2.5-flare"})
    facts = structured(result, tool)
    assert "markup" in facts and "mask" not in facts and facts["model"] == "gpt-image-2.5-flare"


def test_a_job_of_edits_takes_its_images_as_data_urls(served):
    photo = Image.new("RGB", (256, 192), (90, 140, 200))
    result, tool = call(served[0], "batch", {"prompts": "a red hat\na blue hat", "images": [data_url(photo)],
                                             "mode": "now", "model": "gpt-image-2"})
    job = structured(result, tool)
    assert job["kind"] == "now" and job["count"] == 2 and job["endpoint"] == "/v1/images/edits"
    assert len(job["edit"]["parameters"]["references"]) == 1
    result, _ = call(served[0], "batch", {"prompts": "a hat", "images": [data_url(photo)], "model": "dall-e-3"})
    assert result.isError and "dall-e-3 cannot edit images" in result.content[0].text


def test_models_lists_choices_and_prices_an_agent_can_plan_with(served):
    result, tool = call(served[0], "models", {})
    catalog = structured(result, tool)
    by_id = {m["id"]: m for m in catalog["models"]}
    assert by_id["dall-e-3"]["styles"] == ["natural", "vivid"] and by_id["dall-e-3"]["max_n"] == 1
    assert {"quality": "hd", "size": "1792x1024", "usd": 0.12, "estimate": False} in by_id["dall-e-3"]["prices"]
    assert by_id["gpt-image-2"]["custom_size"].startswith("WIDTHxHEIGHT (multiples of 16")
    assert catalog["listing"].startswith("not asked") and by_id["gpt-image-2"]["offered"] is None
    result, tool = call(served[0], "models", {"model": "gpt-image-2"})
    assert [m["id"] for m in structured(result, tool)["models"]] == ["gpt-image-2"]
    result, _ = call(served[0], "models", {"model": "dall-e-2"})
    assert result.isError and "Unknown model 'dall-e-2'" in result.content[0].text


def test_library_finds_earlier_images_by_words_and_pages(served):
    call(served[0], "generate", {"prompt": "a lighthouse in fog", "seed": 11})
    result, tool = call(served[0], "library", {"words": "lighthouse", "per_page": 5, "page": 1})
    found = structured(result, tool)
    assert found["total"] >= 1 and found["per_page"] == 5
    first = found["images"][0]
    assert first["prompt"] == "a lighthouse in fog" and first["seed"] == 11
    assert not first["file"].startswith("/") and (served[1] / first["file"]).is_file()  # a name, never a path
    result, _ = call(served[0], "library", {"since": "2026-12-31", "until": "2026-01-01"})
    assert result.isError and "swap the dates" in result.content[0].text


def test_without_the_library_there_is_no_library_tool_and_names_follow_the_prefix():
    from ui.mcp.descriptions import tool_description
    from ui.mcp.tools import Tools

    server = SimpleNamespace(types=pytest.importorskip("mcp").types, tool_prefix="my_space_", tool_to_endpoint={})
    tools = Tools(server, Studio(Settings(offline=True)))
    assert [t.name for t in tools.own_tools()] == ["my_space_models"]
    assert "the my_space_models tool" in tool_description("generate", tools.prefix)
    assert "the my_space_batch tool" in tool_description("batch_status", tools.prefix)
    assert "the my_space_batch_status tool" in tool_description("batch", tools.prefix)


def test_models_marks_what_a_real_endpoint_lists_and_starts_on_its_successor(fake_api, tmp_path):
    from ui.mcp.tools import Tools

    fake_api.models = [m for m in fake_api.models if m["id"] != "dall-e-3"]
    studio = Studio(Settings(api_key="sk-mcp-models-0123456789abcdef", base_url=fake_api.base_url,
                             output_dir=tmp_path))
    server = SimpleNamespace(types=pytest.importorskip("mcp").types, tool_prefix="", tool_to_endpoint={})
    catalog = Tools(server, studio).models({}, "")
    by_id = {m["id"]: m for m in catalog["models"]}
    assert catalog["listing"] == "listed" and catalog["endpoint"] == fake_api.base_url
    assert by_id["dall-e-3"]["offered"] is False and by_id["gpt-image-2"]["offered"] is True
    assert catalog["default_model"] == "gpt-image-2"  # the page's model here: dall-e-3's successor


def test_a_job_run_now_reports_itself_and_its_rows_as_structured_facts(served):
    url, out = served
    result, tool = call(url, "batch", {"template": "a {red|blue} kite", "model": "gpt-image-2", "mode": "now",
                                       "settings": "quality: low"})
    job = structured(result, tool)
    assert (job["kind"], job["count"], job["estimate_now_usd"] >= job["estimate_batch_usd"]) == ("now", 2, True)
    for _ in range(100):
        result, tool = call(url, "batch_status", {"job_id": job["id"]})
        report = structured(result, tool)
        if report["status"] != "running":
            break
    assert report["status"] == "done" and [r["ok"] for r in report["results"]] == [True, True]
    assert all((out / f).is_file() for r in report["results"] for f in r["files"])  # saved names, never paths
    result, tool = call(url, "batch_status", {})
    assert job["id"] in [j["id"] for j in structured(result, tool)["jobs"]]
    result, _ = call(url, "batch_cancel", {"job_id": job["id"]})
    assert result.isError and "not a pending Batch" in result.content[0].text
    result, _ = call(url, "batch", {"prompts": "a fox", "mode": "later"})
    assert result.isError and "is not one of" in result.content[0].text


def test_a_chat_turn_returns_its_image_and_facts_and_an_integer_turn_branches(served):
    url, out = served
    result, tool = call(url, "chat", {"text": "a lighthouse", "image_model": "gpt-image-2", "quality": "low",
                                      "output_format": "webp", "output_compression": 90})
    first = structured(result, tool)
    images = [c for c in result.content if c.type == "image"]
    assert len(images) == 1 and images[0].mimeType == "image/webp"
    assert read_parameters(base64.b64decode(images[0].data))["turn"] == 1
    assert first["turn"] == 1 and first["parent"] is None and (out / first["file"]).is_file()
    call(url, "chat", {"text": "now at night", "conversation": first["conversation"]})
    result, tool = call(url, "chat", {"text": "at noon instead", "conversation": first["conversation"],
                                      "from_turn": 1, "images": [data_url(Image.new("RGB", (64, 48), "navy"))]})
    branch = structured(result, tool)
    assert (branch["conversation"], branch["turn"], branch["parent"]) == (first["conversation"], 3, 1)
    result, _ = call(url, "chat", {"conversation": first["conversation"]})
    assert result.isError and "'text' is a required property" in result.content[0].text
