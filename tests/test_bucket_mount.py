"""An outputs folder on a Storage Bucket mount: no hard links, no file locks, a restart loses the local disk.

Each test runs the real CLI in a subprocess whose ``sitecustomize`` makes ``os.link``
fail as hf-mount does (EPERM) and every ``fcntl`` lock fail (ENOLCK): no patching
inside this process. A "restart" is a new process with an empty temp folder, as a
Space's local disk is after one; the outputs folder is what the bucket keeps.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from dalle3.files import mounts
from dalle3.library.index import INDEX_NAME
from dalle3.ledger import LEDGER_NAME
from tests.apphelpers import SERVER_KEY

ROOT = Path(__file__).resolve().parents[1]
SHIM = '''
import errno, fcntl, os

def _no_links(*args, **kwargs):
    raise OSError(errno.EPERM, "Operation not permitted")

def _no_locks(*args, **kwargs):
    raise OSError(errno.ENOLCK, "No locks available")

os.link = _no_links
fcntl.flock = fcntl.lockf = _no_locks
'''


@pytest.fixture
def bucket(tmp_path) -> Path:
    (tmp_path / "shim").mkdir()
    (tmp_path / "shim" / "sitecustomize.py").write_text(SHIM)
    return tmp_path


def run(bucket: Path, restart: int, *args: str, **env: str) -> subprocess.CompletedProcess:
    """``python -m dalle3 ARGS`` on the mount; ``restart`` numbers the local disk (a new one each time)."""
    local = bucket / f"local-disk-{restart}"
    local.mkdir(exist_ok=True)
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "DALLE3_"))}
    full = {**clean, "PYTHONPATH": os.pathsep.join([str(bucket / "shim"), str(ROOT)]), "TMPDIR": str(local),
            "DALLE3_OUTPUT_DIR": str(bucket / "outputs"), "PYTHONUNBUFFERED": "1", **env}
    done = subprocess.run([sys.executable, "-m", "dalle3", *args], cwd=bucket, env=full, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done


def test_the_shim_really_takes_links_and_locks_away(bucket):
    probe = "import os, fcntl; os.link('a', 'b')"
    env = {**os.environ, "PYTHONPATH": str(bucket / "shim")}
    done = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True, timeout=60)
    assert "Operation not permitted" in done.stderr


def test_images_are_saved_without_links_and_the_library_is_rebuilt_after_a_restart(bucket):
    run(bucket, 1, "a fox in the snow", "--seed", "3", "--offline")
    run(bucket, 1, "a fox in the snow", "--seed", "3", "--offline")  # same name: a second file, never over it
    outputs = bucket / "outputs"
    saved = sorted(p.name for p in outputs.rglob("*") if p.is_file())
    assert saved == ["a-fox-in-the-snow_seed3-2.png", "a-fox-in-the-snow_seed3.png"], saved  # no .tmp left
    listed = json.loads(run(bucket, 2, "library", "fox", "--json").stdout)  # after a restart: a fresh local disk
    assert listed["total"] == 2
    assert {Path(i["path"]).name for i in listed["images"]} == set(saved)
    assert not (outputs / INDEX_NAME).exists()  # SQLite never on the mount
    assert list((bucket / "local-disk-2").rglob(INDEX_NAME))


def test_the_spend_ledger_on_the_mount_adds_up_across_restarts(bucket, fake_api):
    env = {"OPENAI_API_KEY": SERVER_KEY, "OPENAI_BASE_URL": fake_api.base_url, "DALLE3_MAX_SPEND_USD": "5"}
    run(bucket, 1, "a harbour", "--seed", "1", **env)
    run(bucket, 2, "a harbour", "--seed", "2", **env)
    ledger = json.loads((bucket / "outputs" / LEDGER_NAME).read_text())
    assert ledger == {"spent_usd": 0.08, "images": 2}  # two dall-e-3 standard 1024x1024 images at $0.040


def test_a_folder_that_refuses_links_counts_as_a_mount_and_its_index_lives_locally(tmp_path):
    assert mounts.filesystem_type(tmp_path, tmp_path / "missing") is None
    info = tmp_path / "mountinfo"
    info.write_text("36 25 0:32 / / rw - ext4 /dev/sda1 rw\n"
                    f"99 36 0:50 / {tmp_path}/my\\040bucket rw,nosuid - fuse.hf-mount hf-mount rw\n")
    assert mounts.filesystem_type(tmp_path / "my bucket" / "outputs", info) == "fuse.hf-mount"
    assert mounts.filesystem_type(tmp_path / "elsewhere", info) == "ext4"
    assert mounts.index_home(tmp_path / "local") == tmp_path / "local"  # ext4 here, and links work
