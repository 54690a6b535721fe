from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # the helpers in tests/support

MEDIA_TOOLS = ["ffmpeg", "espeak-ng", "sox"]


def pytest_runtest_setup(item):
    """Tests marked ``media_tools`` make or read media: without the tools they fail (never
    skip) saying what to install; the other tests run anyway."""
    if item.get_closest_marker("media_tools"):
        missing = [t for t in MEDIA_TOOLS if shutil.which(t) is None]
        if missing:
            pytest.fail(f"this test needs {missing} on PATH (Debian: apt-get install ffmpeg espeak-ng sox)", pytrace=False)
