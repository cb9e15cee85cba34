"""What the pinned client really sends, captured once per test session: the lab gateways serve
these names, so the lab never shares gwdoctor's beliefs (knowledge/client.yaml) about them.

``client_models()`` runs ``claude -p`` (2.1.332, the CI pin) against a loopback recorder with no
model set and with each alias, and returns ``{"main": …, "opus": …, "sonnet": …, "haiku": …}``:
the ids the client put in its requests.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path

from gwdoctor.probes._observe import observe_client

REPO = Path(__file__).resolve().parents[2]
CLAUDE = Path(os.environ.get("GWDOCTOR_CLAUDE") or REPO / ".lab/claude/node_modules/.bin/claude")


@functools.lru_cache(maxsize=1)
def client_models() -> dict[str, str]:
    """Role -> the id the pinned client sends (about 1-2 s, once per process). The same
    observation as `gwdoctor scan --observe-client` (probes/_observe.py), whose results the
    capture tier checks against the client case by case."""
    if not CLAUDE.exists():
        raise RuntimeError(f"Claude Code not installed at {CLAUDE}: run bash .ci/install")
    observed = observe_client(str(CLAUDE), version="(lab)", timeout=60)
    if not observed["ok"]:
        raise RuntimeError(f"capturing the client's models failed: {observed['error']}")
    return {role: str(observed["sent"][role]["model"])
            for role in ("main", "opus", "sonnet", "haiku")}
