"""The `box` fixture: a fake machine (HOME, project, system root) for the config probe tests."""

from __future__ import annotations

from pathlib import Path

import pytest
from _box import Box


@pytest.fixture
def box(tmp_path: Path) -> Box:
    return Box(tmp_path)
