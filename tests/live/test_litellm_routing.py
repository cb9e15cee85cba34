"""knowledge/litellm_routing.yaml is LiteLLM's own provider lookup, not a belief about it: the
lab's pinned LiteLLM prints its tables (tests/live/_litellm_routing_dump.py, run with its own
python) and they must equal the file's. A LiteLLM upgrade that routes more names fails here
until the file is regenerated."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml

from ._litellm import litellm_binary

ROOT = Path(__file__).resolve().parents[2]
DUMP = Path(__file__).with_name("_litellm_routing_dump.py")

pytestmark = pytest.mark.live


def test_the_routing_knowledge_is_litellms_own_lookup() -> None:
    python = litellm_binary().with_name("python")
    out = subprocess.run([str(python), str(DUMP)], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    live = yaml.safe_load(out.stdout)
    known = yaml.safe_load((ROOT / "knowledge/litellm_routing.yaml").read_text())
    for key in ("providers", "api_bases", "patterns", "names"):
        assert known[key] == live[key], f"knowledge/litellm_routing.yaml's {key} differs"
