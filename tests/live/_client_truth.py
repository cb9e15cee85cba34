"""What the pinned client really sends, captured once per test session: the lab gateways serve
these names, so the lab never shares gwdoctor's beliefs (knowledge/client.yaml) about them.

``client_models()`` runs ``claude -p`` (2.1.332, the CI pin) against a loopback recorder with no
model set and with each alias, and returns ``{"main": …, "opus": …, "sonnet": …, "haiku": …}``:
the ids the client put in its requests.
"""

from __future__ import annotations

import functools
import os
import subprocess
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from gwdoctor.probes._recorder import Recorder

REPO = Path(__file__).resolve().parents[2]
CLAUDE = Path(os.environ.get("GWDOCTOR_CLAUDE") or REPO / ".lab/claude/node_modules/.bin/claude")


def _sent(model: str | None) -> str:
    with Recorder() as rec, tempfile.TemporaryDirectory() as home:
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": home,
               "ANTHROPIC_BASE_URL": rec.url, "ANTHROPIC_AUTH_TOKEN": "sk-lab-capture",
               "CLAUDE_CODE_MAX_RETRIES": "0", "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1"}
        args = [str(CLAUDE), "-p", "say hi"] + (["--model", model] if model else [])
        done = subprocess.run(args, env=env, cwd=home, stdin=subprocess.DEVNULL,
                              capture_output=True, text=True, timeout=90)
        sent = [e.model for e in rec.exchanges if e.method == "POST" and e.path.endswith("/v1/messages")]
        if done.returncode != 0 or not sent or not sent[-1]:
            raise RuntimeError(f"capturing the client's model for {model or 'no model'} failed: "
                               f"rc={done.returncode} {done.stdout[-300:]} {done.stderr[-300:]}")
        return str(sent[-1])


@functools.lru_cache(maxsize=1)
def client_models() -> dict[str, str]:
    """Role -> the id the pinned client sends (about 1-2 s, once per process)."""
    if not CLAUDE.exists():
        raise RuntimeError(f"Claude Code not installed at {CLAUDE}: run bash .ci/install")
    roles = {"main": None, "opus": "opus", "sonnet": "sonnet", "haiku": "haiku"}
    with ThreadPoolExecutor(4) as pool:
        sent = dict(zip(roles, pool.map(_sent, roles.values())))
    return sent
