"""Shared helpers for the network rules (dns, proxy, tls): env-variable fixes in shell and
settings form. Pure."""

from __future__ import annotations

import ipaddress
import json
from typing import Any, Mapping

from gwdoctor.engine import Fix

__all__ = ["is_internal", "is_loopback", "no_proxy_with", "set_env_fixes", "settings_target", "shq"]


def shq(value: str) -> str:
    """Single-quote for POSIX shells."""
    return "'" + value.replace("'", "'\"'\"'") + "'"


def is_loopback(host: str | None) -> bool:
    host = (host or "").strip("[]").lower().rstrip(".")
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def is_internal(host: str | None) -> bool:
    """A host a corporate proxy usually cannot or should not reach: the `internal` list of
    knowledge/hosts.yaml (private IPs, single-label names, internal DNS suffixes), the same
    list `gwdoctor generate proxy` uses."""
    from gwdoctor.engine.hosts import host_in_list

    return host_in_list(host, "internal")


def no_proxy_with(existing: str | None, *hosts: str) -> str:
    """The user's NO_PROXY entries (kept, in order) plus ``hosts`` not yet listed."""
    entries = [e for e in (existing or "").replace(" ", ",").split(",") if e.strip()]
    lowered = {e.strip().lower() for e in entries}
    for host in hosts:
        if host and host.lower() not in lowered:
            entries.append(host)
            lowered.add(host.lower())
    return ",".join(e.strip() for e in entries)


def settings_target(source: Mapping[str, Any] | None) -> str:
    """Where a settings patch goes: the file the variable came from, else the user file."""
    if (source and source.get("layer") not in (None, "shell", "default", "cli")
            and source.get("file")):
        return str(source["file"])
    return "~/.claude/settings.json"


def set_env_fixes(var: str, value: str, *, title: str, safety: str = "review",
                  source: Mapping[str, Any] | None = None,
                  also: Mapping[str, str] | None = None) -> tuple[Fix, ...]:
    """Two fixes for one variable: the shell export and the settings ``env`` patch
    (put in the file the variable came from when it came from a settings file)."""
    pairs = {var: value, **(also or {})}
    shell = "\n".join(f"export {k}={shq(v)}" for k, v in pairs.items())
    patch = json.dumps({"env": pairs}, indent=2)
    target = settings_target(source)
    return (Fix(title=f"{title} (shell, before starting claude)", snippet=shell, safety=safety),
            Fix(title=f"{title} (settings env block)", snippet=patch, lang="json", target=target,
                safety=safety))
