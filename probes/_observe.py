"""Observe the installed client (``--observe-client``): what does *this* binary send?

Runs ``claude -p`` a few times against a loopback recorder (probes/_recorder.py), each in a
fresh temporary HOME with a placeholder token and no proxy: nothing of the user's settings is
read or changed, no credential is used, no request leaves the machine and none is paid for.
From what arrives it learns the version's behaviour that matters to predictions (the model of
each alias and of the default, the legacy remap, the Messages path, the beta flags and the user
agent) in the shape of knowledge/client.yaml, so the rest of the scan uses it unchanged.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Mapping

from ._io import run_process
from ._recorder import Recorder

__all__ = ["ROUTE_VARIABLES", "managed_route_settings", "observe_client"]

PLACEHOLDER_TOKEN = "sk-gwdoctor-observe-placeholder"
LEGACY_PROBE = "claude-opus-4-1"
RUNS = {"main": None, "opus": "opus", "sonnet": "sonnet", "haiku": "haiku", "legacy": LEGACY_PROBE}
# Settings that would send the observation elsewhere than the recorder: managed settings (which
# a temporary HOME does not hide) must not set any of them.
ROUTE_VARIABLES = ("ANTHROPIC_BASE_URL", "HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy",
                   "ALL_PROXY", "all_proxy", "CLAUDE_CODE_USE_BEDROCK", "CLAUDE_CODE_USE_VERTEX",
                   "CLAUDE_CODE_USE_FOUNDRY", "ANTHROPIC_BEDROCK_BASE_URL",
                   "ANTHROPIC_VERTEX_BASE_URL")


def _run_once(binary: str, model: str | None, url: str, timeout: float) -> tuple[int | None, str]:
    home = tempfile.mkdtemp(prefix="gwdoctor-observe-")
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": home, "LANG": "C.UTF-8",
           "ANTHROPIC_BASE_URL": url, "ANTHROPIC_AUTH_TOKEN": PLACEHOLDER_TOKEN,
           "CLAUDE_CODE_MAX_RETRIES": "0", "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
           "NO_PROXY": "127.0.0.1,localhost", "CLAUDE_CONFIG_DIR": os.path.join(home, ".claude")}
    args = [binary, "-p", "say hi"] + (["--model", model] if model else [])
    try:
        # Bounded in time and output, and the client and everything it started are gone after
        # (probes/_io.run_process).
        done = run_process(args, env=env, cwd=home, timeout=timeout, cap=16 * 1024)
    finally:
        shutil.rmtree(home, ignore_errors=True)
    if done.error is not None:
        return None, done.error
    if done.timed_out:
        return None, "timed out"
    return done.exit_code, (done.stdout + done.stderr)[-400:].decode("utf-8", "replace")


def observe_client(binary: str, version: str, timeout: float = 20.0) -> dict[str, Any]:
    """What this client sends: ``{"ok", "behaviour" (knowledge-shaped), "sent", "error"}``."""
    sent: dict[str, Any] = {}
    errors: list[str] = []

    def one(role: str) -> None:
        with Recorder() as rec:
            rc, out = _run_once(binary, RUNS[role], rec.url, timeout)
            messages = [e for e in rec.exchanges
                        if e.method == "POST" and e.path.endswith("/v1/messages")]
            if not messages:
                errors.append(f"{role}: no request reached the local recorder "
                              f"(exit {rc}: {out.strip()[-160:]})")
                return
            first = messages[-1]
            sent[role] = {"model": first.model, "path": first.path, "query": first.query,
                          "beta": first.headers.get("anthropic-beta"),
                          "user_agent": first.headers.get("user-agent")}

    with ThreadPoolExecutor(len(RUNS)) as pool:
        list(pool.map(one, RUNS))
    if errors or set(sent) != set(RUNS):
        return {"ok": False, "behaviour": {}, "sent": sent,
                "error": "; ".join(sorted(errors))[:600]}
    models = {alias: str(sent[alias]["model"]) for alias in ("opus", "sonnet", "haiku")}
    main = str(sent["main"]["model"])
    default_alias = next((a for a in ("opus", "sonnet", "haiku") if models[a] == main), None)
    behaviour: dict[str, Any] = {
        "default_models": models,
        "legacy_remap": ({LEGACY_PROBE: sent["legacy"]["model"]}
                         if sent["legacy"]["model"] != LEGACY_PROBE else {}),
        "messages_path": sent["main"]["path"] + (f"?{sent['main']['query']}"
                                                 if sent["main"]["query"] else ""),
        "beta_headers": [b.strip() for b in str(sent["main"]["beta"] or "").split(",")
                         if b.strip()],
        "user_agent_print_mode":
            str(sent["main"]["user_agent"] or "").replace(version, "{version}"),
    }
    if default_alias:
        behaviour["default_main_alias"] = default_alias
    else:  # the default is no alias's model: model it as an alias of its own
        behaviour["default_main_alias"] = "default"
        behaviour["default_models"] = {**models, "default": main}
    return {"ok": True, "behaviour": behaviour, "sent": sent, "error": None}


def managed_route_settings(managed_env: Mapping[str, Any]) -> list[str]:
    """Route variables a managed settings file sets (they would reach past the recorder)."""
    return sorted(v for v in ROUTE_VARIABLES if managed_env.get(v))
