"""The MCP tools as an agent sees them: typed inputs, choices as enums, facts as ``structuredContent``.

Gradio 6.31 derives each tool from an endpoint's components, and what it derives misleads an
agent (each point checked with the official ``mcp`` client against this app):

- the hidden inputs are free-text boxes (a custom ``WxH`` size or a listed model id must reach
  our own validation), so ``n`` and ``output_compression`` were typed ``string`` and
  ``{"n": 2}`` failed ``Input validation error: 2 is not of type 'string'``; fixed sets
  (quality, style, background, formats...) were prose only;
- a single file keeps FileData leftovers (``"required": ["path"]``, ``"title": "FileData"``)
  beside its ``"type": "string"``;
- every tool with a file gets a sentence about an ``upload_file_to_gradio`` tool this server
  does not have, and the description promised a Markdown status the result does not hold;
- a tool has no ``outputSchema``, no ``structuredContent``, no annotations, and
  ``serverInfo.version`` is the ``mcp`` library's.

Gradio offers no hook for any of this, so :func:`install` adjusts the one server instance
after launch: it wraps ``get_input_schema`` and ``get_fn_description`` (the ``/schema`` route and
the tool list read them), and re-registers the low-level ``tools/list`` and ``tools/call``
handlers around Gradio's own. Gradio still runs the tools it made from endpoints (``generate``,
``edit``, the jobs' ``batch``, ``batch_status`` and ``batch_cancel``, and ``chat``: queue, login,
concurrency, file conversion); the wrappers add the schemas, the annotations, the structured
facts, and two tools of our own: ``models`` (what this endpoint offers, with choices and
prices) and, where the library is on (:func:`dalle3.library.library_access`), ``library``.
Tool names are prefixed on a Space, so a description names another tool by its real name.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from dalle3 import Studio
from dalle3.library import view as library_view
from dalle3.errors import DalleError
from dalle3.models.catalog import CATALOG_SCHEMA, catalog
from dalle3.models.choice import start_model
from dalle3.models import MODELS
from dalle3.version import __version__
from dalle3.views.api_docs import KEY_HEADER  # an own key for the models tool, as for /generate
from ui.mcp.descriptions import tool_description
from ui.mcp.schemas import (BATCH_SCHEMA, CHAT_FACTS, EDIT_FACTS, GENERATE_FACTS, JOB_SCHEMA, LIBRARY_PAGE_MAX,
                            LIBRARY_SCHEMA, STATUS_SCHEMA, refined_schemas)


def _annotations(types: Any, title: str, *, read_only: bool, open_world: bool = True, destructive: bool = False,
                 idempotent: bool | None = None) -> Any:
    return types.ToolAnnotations(title=title, readOnlyHint=read_only, destructiveHint=destructive,
                                 idempotentHint=read_only if idempotent is None else idempotent,
                                 openWorldHint=open_world)


# The Gradio-made tools: title, output schema, annotations (billed ones change the world outside).
_GRADIO_TOOLS: dict[str, tuple[str, dict[str, Any], dict[str, bool]]] = {
    "generate": ("Generate images (billed)", GENERATE_FACTS, {"read_only": False}),
    "edit": ("Edit images (billed)", EDIT_FACTS, {"read_only": False}),
    "batch": ("Run a job of many images (billed)", BATCH_SCHEMA, {"read_only": False}),
    "batch_status": ("Where a job stands", STATUS_SCHEMA, {"read_only": True}),
    "batch_cancel": ("Cancel a pending Batch", JOB_SCHEMA, {"read_only": False, "destructive": True,
                                                           "idempotent": True}),  # twice: still cancelled
    "chat": ("Chat about an image (billed)", CHAT_FACTS, {"read_only": False}),
}


class Tools:
    """The tool list and the calls for one server instance (see the module docstring)."""

    def __init__(self, server: Any, studio: Studio) -> None:
        self.server, self.studio, self.types = server, studio, server.types
        self.prefix: str = getattr(server, "tool_prefix", "")
        self.models_name = self.prefix + "models"
        self.library_name = self.prefix + "library" if studio.library is not None else None

    # --- tools/list ------------------------------------------------------------------------------

    def endpoint(self, tool_name: str) -> str:
        return self.server.tool_to_endpoint.get(tool_name, "").lstrip("/")

    def output_schema(self, tool_name: str) -> dict[str, Any] | None:
        known = _GRADIO_TOOLS.get(self.endpoint(tool_name))
        return known[1] if known else None

    def decorate(self, tool: Any) -> Any:
        """A Gradio-made tool with our description, output schema and annotations."""
        endpoint = self.endpoint(tool.name)
        if endpoint not in _GRADIO_TOOLS:
            return tool
        title, schema, hints = _GRADIO_TOOLS[endpoint]
        return tool.model_copy(update={
            "title": title, "description": tool_description(endpoint, self.prefix), "outputSchema": schema,
            "annotations": _annotations(self.types, title, **hints)})

    def own_tools(self) -> list[Any]:
        types = self.types
        tools = [types.Tool(
            name=self.models_name, title="Models, choices and prices",
            description="What this endpoint offers: every model with its qualities, sizes (presets and the "
                        "WIDTHxHEIGHT rule), styles, extra settings, output formats, images per call, "
                        "prompt limit, whether it edits, and USD per image for each quality and size; "
                        "'offered' says whether the endpoint lists it. Free: nothing is generated.",
            inputSchema={"type": "object", "additionalProperties": False, "properties": {
                "model": {"type": "string", "description": "Only this model id (left out: all).",
                          "examples": list(MODELS)}}},
            outputSchema=CATALOG_SCHEMA,
            annotations=_annotations(types, "Models, choices and prices", read_only=True))]
        if self.library_name:
            tools.append(types.Tool(
                name=self.library_name, title="Find earlier images",
                description="Search the images made on this server, newest first: words of the prompt or "
                            "revised prompt (all must match), model, size, a date range. Returns each "
                            "image's saved name, date, model, size, quality, seed, cost and prompt. Free.",
                inputSchema={"type": "object", "additionalProperties": False, "properties": {
                    "words": {"type": "string", "description": "Words of the prompt (left out: any)."},
                    "model": {"type": "string", "description": "Only this model id."},
                    "size": {"type": "string", "description": "Only this size, e.g. 1536x1024."},
                    "since": {"type": "string", "format": "date", "description": "YYYY-MM-DD, local time."},
                    "until": {"type": "string", "format": "date", "description": "YYYY-MM-DD, inclusive."},
                    "page": {"type": "integer", "minimum": 1, "description": "Page number (left out: 1)."},
                    "per_page": {"type": "integer", "minimum": 1, "maximum": LIBRARY_PAGE_MAX,
                                 "description": f"Images per page, 1 to {LIBRARY_PAGE_MAX} (left out: 20)."}}},
                outputSchema=LIBRARY_SCHEMA,
                annotations=_annotations(types, "Find earlier images", read_only=True, open_world=False)))
        return tools

    # --- tools/call ------------------------------------------------------------------------------

    def _key(self) -> str:
        request = self.server.mcp_server.request_context.request
        own = (request.headers.get(KEY_HEADER) or "").strip() if request is not None else ""
        return own

    def models(self, arguments: dict[str, Any], own_key: str) -> dict[str, Any]:
        settings = self.studio.settings
        key = own_key or settings.api_key or ""
        if settings.offline or not key:
            offered, listing = None, "not asked: the offline simulator draws stand-ins, nothing is charged"
            endpoint = "the offline simulator"
        else:
            found = self.studio.discovery.listing(key)
            offered, endpoint = found.offered, settings.base_url_shown
            listing = "listed" if offered is not None else "the endpoint's model list could not be read"
        only = arguments.get("model") or None
        if only and only not in MODELS and only not in (offered or {}):
            raise ValueError(f"Unknown model {only!r}. Known models: {', '.join(MODELS)}.")
        return catalog(endpoint=endpoint, listing=listing, offered=offered, only=only,
                       default_model=start_model(settings.default_model, offered)[0])

    def library(self, arguments: dict[str, Any]) -> dict[str, Any]:
        library = self.studio.library
        assert library is not None  # the tool is listed only with a library
        per_page = int(arguments.get("per_page") or 20)
        query = library_view.parse_query(arguments.get("words", ""), arguments.get("model"), arguments.get("size"),
                                         arguments.get("since"), arguments.get("until"),
                                         arguments.get("page") or 1, per_page=per_page)
        found = library.search(query)
        root = self.studio.output_dir.resolve()
        images = [{"file": _relative(e.path, root), "created": e.created.isoformat(), "model": e.model,
                   "size": e.size, "quality": e.quality, "seed": e.seed, "cost_usd": e.cost_usd,
                   "cost_exact": e.cost_exact, "prompt": e.prompt, "revised_prompt": e.revised_prompt}
                  for e in found.entries]
        return {"total": found.total, "page": query.page, "per_page": per_page, "images": images}

    async def own_call(self, name: str, arguments: dict[str, Any]) -> tuple[list[Any], dict[str, Any]]:
        try:
            if name == self.models_name:
                data = await asyncio.to_thread(self.models, arguments, self._key())
            else:
                data = await asyncio.to_thread(self.library, arguments)
        except DalleError as exc:
            raise ValueError(exc.user_message) from None
        return [self.types.TextContent(type="text", text=json.dumps(data, ensure_ascii=False))], data


def _relative(path: Any, root: Any) -> str:
    """A saved image's name below the outputs folder (date/name), never the server's path."""
    try:
        return path.resolve().relative_to(root).as_posix()
    except ValueError:
        return path.name


def install(server: Any, studio: Studio) -> None:
    """Replace the schemas, descriptions and tool handlers of Gradio's MCP ``server`` (see above)."""
    tools = Tools(server, studio)
    low, types = server.mcp_server, server.types
    low.version = __version__  # serverInfo.version: the app's, not the mcp library's
    server.get_input_schema = refined_schemas(server.get_input_schema, tools.endpoint)
    get_fn_description = server.get_fn_description

    def described(block_fn: Any, tool_name: str) -> tuple[str, dict[str, str]]:
        description, parameters = get_fn_description(block_fn, tool_name)  # the parameters: the docstring's
        return tool_description(tools.endpoint(tool_name), tools.prefix) or description, parameters

    server.get_fn_description = described
    gradio_list = low.request_handlers[types.ListToolsRequest]
    gradio_call = low.request_handlers[types.CallToolRequest]

    @low.list_tools()
    async def list_tools() -> list[Any]:
        listed = (await gradio_list(None)).root.tools
        return [tools.decorate(t) for t in listed] + tools.own_tools()

    @low.call_tool(validate_input=True)
    async def call_tool(name: str, arguments: dict[str, Any]) -> Any:
        if name in (tools.models_name, tools.library_name):
            return await tools.own_call(name, arguments)
        request = types.CallToolRequest(method="tools/call",
                                        params=types.CallToolRequestParams(name=name, arguments=arguments))
        result = (await gradio_call(request)).root
        if result.isError or tools.output_schema(name) is None:
            return result
        facts = _facts(result.content)
        return (list(result.content), facts) if facts is not None else result


def _facts(content: list[Any]) -> dict[str, Any] | None:
    """The facts JSON our renderer (``ui.mcp``) put beside the images: the last JSON object of the result."""
    for item in reversed(content):
        if getattr(item, "type", "") == "text":
            try:
                data = json.loads(item.text)
            except ValueError:
                continue
            if isinstance(data, dict):
                return data
    return None
