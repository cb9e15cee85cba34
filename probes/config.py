"""Config probes: client version, settings layers and effective env, apiKeyHelper, LiteLLM
config. Local I/O only."""

from __future__ import annotations

import os
import re
import shutil
import sys
from pathlib import Path
from typing import Any

from gwdoctor.engine import Facts, ProbeContext, ProbeSkipped, ScanOption, hookimpl, probe
from gwdoctor.engine.cache import read_json, write_json
from gwdoctor.probes.client_behaviour import (
    assumed_client_version,
    captured_versions,
    client_behaviour,
    parse_version,
)

from ._effective import (
    auth_facts,
    env_fact,
    gateway_facts,
    model_facts,
    provider_facts,
    retired_on,
    today,
)
from ._helper import run_helper
from ._io import file_type, parse_json, read_file, run_process
from ._litellm_config import parse_litellm_config
from ._outcome import reporting
from ._provider_ids import provider_neutral
from ._settings import known_variables, load_layers, merge_env, merged_key

__all__ = ["client_version", "gateway_config_litellm", "parse_version_output", "settings"]

_VERSION = re.compile(r"(\d+\.\d+\.\d+)(?:[-+][0-9A-Za-z.]+)?\s*\(Claude Code\)")


def parse_version_output(text: str) -> str | None:
    """``2.1.332 (Claude Code)`` -> ``2.1.332``; ``None`` for anything else."""
    match = _VERSION.search(text)
    return match.group(1) if match else None


def _find_claude(ctx: ProbeContext) -> str | None:
    override = ctx.env.get("GWDOCTOR_CLAUDE")
    if override:
        return override if os.access(override, os.X_OK) else None
    return shutil.which("claude", path=ctx.env.get("PATH", ""))


@probe(name="client.version",
       provides=("client.version", "client.version_source", "client.behaviour",
                 "client.behaviour_source"))
def client_version(ctx: ProbeContext) -> Facts:
    """Ask the installed client its version (`claude --version`, 3 s at most), unless
    `--client-version` was given; fall back to the version gwdoctor assumes. Its behaviour comes
    from knowledge (captured for the pinned versions), or, with `--observe-client`, from
    running that binary against a local recorder."""
    version, src = ctx.options.get("client_version"), "option"
    binary = _find_claude(ctx)
    if not version:
        if binary:
            version, src = _ask_version(binary, ctx), "claude --version"
    if not version:
        version, src = assumed_client_version(), "assumed"
    behaviour = client_behaviour(version)
    basis = behaviour_basis(version)
    if ctx.options.get("observe_client"):
        observed = _observe(ctx, binary, version, src)
        basis = {**basis, "observation": {k: v for k, v in observed.items() if k != "behaviour"}}
        if observed.get("ok"):
            behaviour = {**behaviour, **observed["behaviour"]}
            basis.update({"kind": "observed", "version": version,
                          "detail": f"observed from {binary} against a local recorder"})
    return {"client.version": version, "client.version_source": src,
            "client.behaviour": behaviour, "client.behaviour_source": basis}


def behaviour_basis(version: str) -> dict[str, Any]:
    """Where the predictions for ``version`` come from: a capture of that very version, the
    nearest older captured version, or documents only."""
    captured = captured_versions()
    wanted = parse_version(version) or (0,)
    if version in captured:
        return {"kind": "captured", "version": version, "captured": captured,
                "detail": f"knowledge captured from Claude Code {version} (tests/capture)"}
    older = [v for v in captured if (parse_version(v) or (0,)) <= wanted]
    if older:
        nearest = max(older, key=lambda v: parse_version(v) or (0,))
        return {"kind": "nearest-captured", "version": nearest, "captured": captured,
                "detail": f"{version} was never captured; predictions assume it behaves like "
                          f"{nearest}"}
    return {"kind": "docs", "version": None, "captured": captured,
            "detail": f"{version} is older than every captured version; predictions come "
                      "from documents"}


def _observe(ctx: ProbeContext, binary: str | None, version: str, src: str) -> dict[str, Any]:
    from ._observe import managed_route_settings, observe_client

    if not binary:
        return {"ok": False, "error": "no claude binary on PATH (or GWDOCTOR_CLAUDE) to observe"}
    if src == "option":
        return {"ok": False, "error": "--client-version names another version than the binary's"}
    managed = [layer for layer in load_layers(ctx.env, ctx.home, ctx.cwd, ctx.root)
               if layer.layer.startswith("managed") and layer.valid]
    routed = sorted({v for layer in managed
                     for v in managed_route_settings(layer.data.get("env") or {})})
    if routed:
        return {"ok": False, "error": "managed settings set " + ", ".join(routed)
                + ": the observation could reach past the local recorder, so it was not run"}
    key = _binary_key(binary)
    cached = read_json("client-observed.json") or {}
    if (key and isinstance(cached, dict) and isinstance(cached.get(key), dict)
            and cached[key].get("ok")):
        return {**cached[key], "cached": True}
    observed = observe_client(binary, version, timeout=max(10.0, ctx.timeout * 3))
    if key and observed.get("ok"):
        write_json("client-observed.json", {key: observed})
    return observed


def _binary_key(binary: str) -> str | None:
    try:
        real = os.path.realpath(binary)
        st = os.stat(real)
    except OSError:
        return None
    return f"{real}:{st.st_size}:{st.st_mtime_ns}"


def _ask_version(binary: str, ctx: ProbeContext) -> str | None:
    """``claude --version``, remembered per binary (path, size, mtime): the native binary
    takes 30-300 ms to answer and every network probe waits for this one."""
    try:
        real = os.path.realpath(binary)
        st = os.stat(real)
    except OSError:
        return None
    key = f"{real}:{st.st_size}:{st.st_mtime_ns}"
    cached = read_json("client-version.json") or {}
    if isinstance(cached, dict) and isinstance(cached.get(key), str):
        return cached[key]
    # Bounded: a `claude` that prints for ever or leaves a background child (_io.run_process).
    done = run_process([binary, "--version"], env=ctx.env, timeout=3, cap=4096)
    if done.error is not None or done.timed_out:
        return None
    version = parse_version_output(done.stdout.decode("utf-8", "replace"))
    if version:
        write_json("client-version.json", {key: version})
    return version


def _helper_trusted(ctx: ProbeContext) -> tuple[bool, dict[str, str] | None]:
    """Whether the user accepted this workspace's trust prompt (``~/.claude.json``), and why
    the file could not be read when it exists but could not be (a finding, not a silent loss)."""
    # Bounded (_io): a FIFO, /dev/zero or a 2 GB file here once hung or filled memory, and
    # deep nesting raised RecursionError inside the probe.
    path = ctx.home / ".claude.json"
    read = read_file(path, "claude_json")
    data, problem = parse_json(read.data or b"") if read.ok else (None, read.problem)
    unreadable = (None if read.missing or not problem
                  else {"path": str(path), "problem": str(problem)})
    try:
        return bool(data["projects"][str(ctx.cwd)]["hasTrustDialogAccepted"]), unreadable  # type: ignore[index]
    except (KeyError, TypeError):
        return False, unreadable


@probe(name="config.settings", needs=("client.behaviour",), provides=(
    "config.settings_files", "config.invalid_settings", "config.env", "config.empty_overrides",
    "config.api_key_helper", "config.workspace_trusted", "config.claude_json_problem",
    "gateway.base_url", "gateway.custom", "gateway.base_url_source", "gateway.scheme",
    "gateway.host", "gateway.port", "gateway.path", "gateway.url_error", "gateway.url_suggestion",
    "auth.token", "auth.api_key", "auth.oauth_token", "auth.custom_headers", "auth.headers",
    "auth.credential_source", "auth.login", "provider.mode", "provider.mode_source",
    "model.requested", "model.distinct"))
def settings(ctx: ProbeContext) -> Facts:
    """Read every settings layer the client reads, merge the `env` blocks over the shell with
    the client's precedence, and derive the gateway, auth, provider and model it will use."""
    behaviour = ctx.facts.get("client.behaviour") or client_behaviour(None)
    layers = load_layers(ctx.env, ctx.home, ctx.cwd, ctx.root)
    eff, empties = merge_env(ctx.env, layers,
                             empty_unsets=bool(behaviour.get("settings_empty_value_unsets")))
    known = known_variables()
    settings_vars = {v for layer in layers if layer.valid for v in (layer.data.get("env") or {})}
    env = env_fact(eff, known, settings_vars)
    for var in env:
        ctx.vault.put(f"env.{var}", eff[var]["raw"])
    raw = {k: v["raw"] for k, v in eff.items()}
    for var, name in (("ANTHROPIC_AUTH_TOKEN", "auth.token"), ("ANTHROPIC_API_KEY", "auth.api_key"),
                      ("ANTHROPIC_CUSTOM_HEADERS", "auth.custom_headers")):
        ctx.vault.put(name, raw.get(var))

    facts: dict[str, Any] = {
        "config.settings_files": [layer.entry() for layer in layers],
        "config.invalid_settings": [layer.invalid for layer in layers if layer.invalid],
        "config.env": env,
        "config.empty_overrides": [{k: e[k] for k in ("var", "source", "shell_value_present")}
                                   for e in empties],
    }
    facts.update(provider_facts(eff))
    mode = facts["provider.mode"]

    trusted, unreadable = _helper_trusted(ctx)
    facts["config.workspace_trusted"] = trusted
    facts["config.claude_json_problem"] = unreadable
    command, helper_layer = merged_key(layers, "apiKeyHelper")
    helper = None
    if isinstance(command, str) and command.strip() and helper_layer is not None:
        needs_trust = helper_layer.layer in ("project", "local")
        base = {"command_present": True, "source": helper_layer.src, "needs_trust": needs_trust}
        if needs_trust and not trusted:
            # The client will not run a project's helper before the trust prompt, and
            # neither do we: it is code from a repository, not from the user.
            helper = {**base, "ran": False, "exit_code": None, "timed_out": False,
                      "output_shape": None, "output": {"present": False}, "stderr_excerpt": None,
                      "duration_ms": 0,
                      "strict": bool(behaviour.get("api_key_helper_strict_output")),
                      "usable": False}
        else:
            helper = {**base, **run_helper(
                command, raw, ctx.cwd, min(5.0, ctx.timeout), ctx.vault,
                bool(behaviour.get("api_key_helper_strict_output")))}
    facts["config.api_key_helper"] = helper

    facts.update(gateway_facts(eff))
    facts.update(auth_facts(eff, mode, helper is not None))
    facts["auth.login"] = _login(ctx, raw)
    facts.update(model_facts(eff, merged_key(layers, "model"), behaviour, mode))
    return facts


def _login(ctx: ProbeContext, raw: dict[str, Any]) -> dict[str, Any]:
    """Whether a claude.ai login (`/login`) is stored where the client keeps it on Linux
    (`$CLAUDE_CONFIG_DIR/.credentials.json`, default `~/.claude/.credentials.json`). On
    macOS it lives in the Keychain, which gwdoctor does not read: ``None``, not ``False``."""
    config_dir = raw.get("CLAUDE_CONFIG_DIR")
    path = Path(config_dir) if config_dir else ctx.home / ".claude"
    path = path / ".credentials.json"
    if sys.platform == "darwin":
        return {"stored": None, "path": str(path), "store": "keychain"}
    return {"stored": file_type(path) == "file", "path": str(path), "store": "file"}


@probe(name="gateway_config.litellm", needs=("client.behaviour",), provides=(
    "gateway_config.path", "gateway_config.error", "gateway_config.models",
    "gateway_config.env_refs", "gateway_config.master_key", "gateway_config.misplaced_keys",
    "gateway_config.fallbacks", "gateway_config.aliases", "gateway_config.header_forwarding"))
def gateway_config_litellm(ctx: ProbeContext) -> Facts:
    """Parse the LiteLLM proxy config given with `--gateway-config` (safe YAML, nothing
    executed)."""
    if not ctx.options.get("gateway_config"):
        raise ProbeSkipped("no --gateway-config given")
    path = Path(ctx.options.get("gateway_config")).expanduser()
    if not path.is_absolute():
        path = ctx.cwd / path
    facts = parse_litellm_config(path, ctx.env, ctx.vault)
    # Each upstream id this client version reports retired, past its date on this clock: the
    # same matching as model.requested's (retired_on), in any provider's spelling.
    behaviour = ctx.facts.get("client.behaviour") or {}
    for entry in facts.get("gateway_config.models") or []:
        upstream = entry.get("model")
        when = (retired_on(provider_neutral(upstream), behaviour) if isinstance(upstream, str)
                else None)
        entry["retired_on"] = when if when and when <= today() else None
    return facts


@hookimpl
def gwdoctor_register_probes() -> list:
    return reporting([client_version, settings, gateway_config_litellm])


@hookimpl
def gwdoctor_register_scan_options() -> list[ScanOption]:
    return [
        ScanOption("--gateway-config", "A LiteLLM config.yaml to check statically.", path=True),
        ScanOption("--client-version", "Claude Code version to model when `claude` is not on "
                   "PATH.", metavar="VERSION"),
        ScanOption("--observe-client", "Run the installed client against a local recorder (no "
                   "network, no paid request, nothing of your settings) to learn what it sends.",
                   is_flag=True),
    ]
