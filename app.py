"""dalle3 studio — the entry point: ``python app.py`` (``--help`` for options).

With no API key it serves the offline simulator, clearly labelled. The page itself lives in
the ``ui`` package; it is imported only once arguments and settings are known to be good,
so ``--help`` and a bad setting answer at once, before Gradio loads (about three seconds).
"""

from __future__ import annotations

import argparse
import importlib.util
import logging
import os
import sys
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from dalle3 import Studio, from_env
from dalle3.errors import ConfigurationError
from dalle3.views.glance import mode_line
from dalle3.settings import Settings, exposure_warning, parse_auth

if TYPE_CHECKING:
    import gradio as gr

    from dalle3.library import Library

log = logging.getLogger("dalle3")


def build(studio: Studio, host: str = "127.0.0.1") -> "gr.Blocks":
    """The page for ``studio`` served on ``host`` (see :mod:`ui.page`)."""
    from ui.page import build as build_page

    # Gradio reads this when the Blocks is built (Blocks.__init__ sets up the queue), so it is set
    # here, before building; cheaper than demo.queue(), which builds the web app once more.
    os.environ["GRADIO_DEFAULT_CONCURRENCY_LIMIT"] = str(studio.settings.concurrency)
    return build_page(studio, host)


def launch_options(studio: Studio) -> dict[str, Any]:
    """What every launch needs, for :func:`main` and the tests alike (see :mod:`ui.page`)."""
    from ui.page import launch_options as options

    return options(studio)


def serve(demo: "gr.Blocks", studio: Studio, **launch: Any) -> str:
    """Launch ``demo`` without blocking, exactly as :func:`main` does; returns the local URL."""
    from ui.mcp import adapt_mcp
    from ui.sessions import keep_sessions_lean

    # uvicorn believes X-Forwarded-For from 127.0.0.1 unless told otherwise, which would let any
    # client on loopback choose the address the login throttle and upload bounds key on.
    os.environ["FORWARDED_ALLOW_IPS"] = ",".join(studio.settings.trusted_proxies)
    _, url, _ = demo.launch(prevent_thread_lock=True, **launch, **launch_options(studio))
    adapt_mcp(demo)
    keep_sessions_lean(demo)
    return url


def open_library(settings: Settings, host: str) -> "Library | None":
    """The library index when it may be shown here (loopback by default), reconciling in the background."""
    from dalle3.library import Library, LibraryError, library_access

    access = library_access(settings, host)
    if not access.enabled:
        if settings.library:  # asked for, but not allowed here: say why
            print(f"dalle3 studio: {access.reason}", file=sys.stderr)
        return None
    try:
        assert settings.output_dir is not None  # library_access enables the library only with a folder
        library = Library(settings.output_dir)
        library.start()
    except LibraryError as exc:
        print(f"dalle3 studio: {exc.user_message}", file=sys.stderr)
        return None
    return library


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="dalle3 studio: the page.")
    parser.add_argument("--listen", action="store_true", help="serve on all interfaces (0.0.0.0), not only 127.0.0.1")
    parser.add_argument("--port", type=int, default=None, help="port (default: GRADIO_SERVER_PORT or 7860)")
    parser.add_argument("--auth", default=None, help="user:password login for the page (or DALLE3_AUTH)")
    parser.add_argument("--mcp", action="store_true",
                        help="also serve Gradio's MCP server (needs gradio[mcp]; or DALLE3_MCP=1)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    log.setLevel(logging.INFO)
    try:
        settings = from_env()
        auth = parse_auth(args.auth, "--auth") if args.auth else settings.auth
    except ConfigurationError as exc:
        sys.exit(f"dalle3 studio: {exc.user_message}")
    settings = replace(settings, auth=auth)
    host = "0.0.0.0" if args.listen else os.environ.get("GRADIO_SERVER_NAME", "127.0.0.1")
    if warning := exposure_warning(settings, host):
        print(warning, file=sys.stderr)
    mcp = args.mcp or settings.mcp
    if mcp and importlib.util.find_spec("mcp") is None:
        sys.exit(f"dalle3 studio: {'--mcp' if args.mcp else 'DALLE3_MCP=1'} needs the MCP extra: "
                 "pip install 'gradio[mcp]==6.31.0' (on a Space: add gradio[mcp]==6.31.0 to requirements.txt).")
    studio = Studio(settings, library=open_library(settings, host))
    demo = build(studio, host)
    # quiet: Gradio's own lines would offer `share=True`, which this app does not take
    url = serve(demo, studio, server_name="0.0.0.0" if args.listen else None, server_port=args.port,
                mcp_server=mcp or None, quiet=True)
    print(mode_line(settings, url), flush=True)
    demo.block_thread()


if __name__ == "__main__":
    main()
