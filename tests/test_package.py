"""The package as a library: importable without Gradio."""

from pathlib import Path


def test_importing_the_package_does_not_import_gradio():
    import subprocess
    import sys

    code = ("import sys, dalle3, dalle3.views.studio_view, dalle3.http.discovery, dalle3.views.status; "
            "print('gradio' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=Path(__file__).resolve().parents[1])
    assert out.stdout.strip() == "False"
