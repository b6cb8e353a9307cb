"""What each MCP tool made from an endpoint tells an agent: what it does, what it costs, who pays, what it returns.

A description names another tool by its real name: on a Space Gradio prefixes every tool name
with the Space's, so the prefix is passed in. :mod:`ui.mcp.tools` puts these on the tool list
and on Gradio's ``/schema`` route. No Gradio import here.
"""

from __future__ import annotations

from dalle3.models.edit_rules import MAX_REFERENCES

_BILLED = ("Costs money: OpenAI bills {what} to this server's key, or to your own key sent in the "
           "X-OpenAI-Api-Key header")


def tool_description(endpoint: str, prefix: str = "") -> str:
    """What the Gradio-made tool for ``endpoint`` does, what it costs and returns.

    ``prefix`` is Gradio's tool-name prefix (a Space's name), so another tool is named as the agent sees it.
    """
    if endpoint in ("generate", "edit"):
        return _image_description(endpoint, prefix)
    return {
        "batch": (
            "Make a job of many image requests and run it: prompts (one per line), a template with {a|b} "
            "alternatives and {name} lists, compare axes (every prompt x every combination) and settings every "
            "row shares. mode 'batch' (the default) submits it as an OpenAI Batch: half price, results within 24 "
            "hours, followed across restarts; mode 'now' runs it at once at full price within the server's "
            "concurrency. " + _BILLED.format(what="every image of the job") + " (a Batch on the server's key "
            "only where this server allows it: behind a login, or on loopback); without any key, mode 'now' "
            "draws free offline stand-ins and a Batch is refused. A job the spending cap on the server's key "
            f"cannot cover is refused before anything runs; the {prefix}models tool lists every model's USD "
            "prices. Returns the job (id, kind, status, count, estimate_now_usd, estimate_batch_usd...) as "
            f"structured content and as JSON text; the {prefix}batch_status tool reports its progress and results."),
        "batch_status": (
            f"Where a job made by the {prefix}batch tool stands: status, count, done, failed, left, spent_usd, and "
            "once it has ended each row's result (saved file names, cost, and the error in plain words). A "
            "pending OpenAI Batch is asked of OpenAI first. Without job_id: every job you may see (those of the "
            "key in your X-OpenAI-Api-Key header, and the server's where this server allows its key). Free: "
            "nothing is generated or billed. Returns the job, or {jobs: [...]}, as structured content and as "
            "JSON text."),
        "batch_cancel": (
            f"Cancel a pending OpenAI Batch made by the {prefix}batch tool: rows not yet run never run (this "
            "cannot be undone); rows already done are still saved and billed. Only a pending Batch can be "
            "cancelled, with the key it was submitted with. The call itself is free. Returns the job (status "
            "cancelling, then cancelled) as structured content and as JSON text."),
        "chat": (
            "One turn of a conversation about an image, through OpenAI's Responses API and its image tool: a "
            "mainline model (model) answers the text and may make or change one image with the image model "
            "(image_model). Leave conversation out to start one; give the conversation id from an earlier "
            "turn's facts to continue, and from_turn to branch from an earlier turn. "
            + _BILLED.format(what="the mainline model's tokens and the image") + " (without any key the server "
            f"answers with free offline stand-ins); the {prefix}models tool lists the image models' USD prices. "
            "Returns the turn's image (if it made one) as image content and the facts (conversation, turn, "
            "parent, answer, revised_prompt, cost_usd, file...) as structured content and as JSON text."),
    }.get(endpoint, "")


def _image_description(endpoint: str, prefix: str) -> str:
    what = ("Make 1-10 images from a text prompt with OpenAI's image models (GPT Image; DALL·E 3 only where the "
            "endpoint still serves it)." if endpoint == "generate" else
            f"Edit or vary 1-{MAX_REFERENCES} reference images with a GPT Image model, optionally with a mask "
            "or a markup on the first; images are given as data:image/...;base64 URLs (http(s) URLs are "
            "refused: this server downloads nothing).")
    return (f"{what} " + _BILLED.format(what="each image") + f"; the {prefix}models tool lists every model's "
            "choices and USD prices (without any key the server draws free offline stand-ins, and repeating a "
            "request is answered from a cache for free). Choices differ by model: each parameter's description gives "
            "them per model, and a value the chosen model does not take is refused with a sentence naming the "
            "allowed ones (a size it does not take names the nearest allowed). A model left out is the server's "
            "default, or its successor where the endpoint does not offer it. Returns every image as image content "
            "and the facts (model, size, quality, cost_usd, revised_prompt, files...) as structured content and as "
            "JSON text.")
