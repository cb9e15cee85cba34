"""Effective client environment for the network probes: config.env + vault, falling back to
ctx.env. No I/O."""

from __future__ import annotations

from typing import Any

from gwdoctor.engine import ProbeContext
from gwdoctor.probes.client_behaviour import client_behaviour

__all__ = ["behaviour", "cert_stores", "env_source", "env_value", "repo_chosen_untrusted",
           "repo_tls_settings", "shell_value"]

_STORES = ("bundled", "system")


def _entry(ctx: ProbeContext, var: str) -> dict[str, Any] | None:
    cfg = ctx.facts.get("config.env")
    if not isinstance(cfg, dict):
        return None
    entry = cfg.get(var)
    return entry if isinstance(entry, dict) else None


def env_value(ctx: ProbeContext, var: str) -> str | None:
    """The raw effective value of ``var`` as the client sees it.

    With a ``config.env`` fact (settings ``env`` blocks merged over the shell),
    a variable missing from it is unset; the raw value comes from the vault
    (``env.<VAR>``), which holds secrets such as a proxy password. Without
    ``config.env`` (a probe run on its own), ``ctx.env`` is the environment.
    """
    cfg = ctx.facts.get("config.env")
    if not isinstance(cfg, dict):
        return ctx.env.get(var)
    entry = cfg.get(var)
    if not isinstance(entry, dict):
        return None
    raw = ctx.vault.get(f"env.{var}")
    if raw is not None:
        return raw
    value = entry.get("value")
    if isinstance(value, str):
        return value
    # NOTE: the vault drops empty values, so an empty secret arrives only as its description.
    if isinstance(value, dict) and value.get("present") and value.get("length") == 0:
        return ""
    return None


def env_source(ctx: ProbeContext, var: str) -> dict[str, Any]:
    """The ``Source`` of the effective value (``shell`` when config.env is absent)."""
    entry = _entry(ctx, var)
    if entry and isinstance(entry.get("source"), dict):
        return dict(entry["source"])
    return {"layer": "shell", "file": None}


def repo_chosen_untrusted(ctx: ProbeContext, source: Any) -> bool:
    """Whether a value with this ``Source`` was chosen by the repository (its project or local
    settings file) in a workspace the user has not trusted. A cloned repository can ship
    ``.claude/settings.json``; nothing in it is the user's choice until they trust the folder.
    A missing ``config.workspace_trusted`` fact counts as untrusted."""
    layer = source.get("layer") if isinstance(source, dict) else None
    return layer in ("project", "local") and ctx.facts.get("config.workspace_trusted") is not True


def _store_kinds(value: Any, default: Any) -> set[str]:
    kinds = ({k.strip().lower() for k in value.split(",")} & set(_STORES)
             if isinstance(value, str) else set())
    return kinds or set(default or _STORES)


def cert_stores(ctx: ProbeContext) -> set[str]:
    """The certificate stores the client trusts here: ``CLAUDE_CODE_CERT_STORE`` (its known
    kinds), else this version's default."""
    return _store_kinds(env_value(ctx, "CLAUDE_CODE_CERT_STORE"),
                        behaviour(ctx).get("cert_store_default"))


def repo_tls_settings(ctx: ProbeContext) -> list[str]:
    """The variables through which the repository (project/local settings of a workspace the
    user has not trusted) weakens the certificate checks of the client's, and gwdoctor's, TLS
    in this client version: ``NODE_TLS_REJECT_UNAUTHORIZED=0``; ``NODE_EXTRA_CA_CERTS`` when
    the version applies a settings value (``extra_ca_from_settings_env``); ``SSL_CERT_FILE``/
    ``SSL_CERT_DIR`` while the system store is in use and honours them; a
    ``CLAUDE_CODE_CERT_STORE`` that turns on a store the user's own value (or the version's
    default) leaves off. Rule CFG014 judges the same from the facts."""
    beh = behaviour(ctx)
    default = beh.get("cert_store_default")

    def repo(var: str) -> bool:
        return bool(env_value(ctx, var)) and repo_chosen_untrusted(ctx, env_source(ctx, var))

    out = []
    if (env_value(ctx, "NODE_TLS_REJECT_UNAUTHORIZED") == "0"
            and repo("NODE_TLS_REJECT_UNAUTHORIZED")):
        out.append("NODE_TLS_REJECT_UNAUTHORIZED")
    if repo("NODE_EXTRA_CA_CERTS") and beh.get("extra_ca_from_settings_env"):
        out.append("NODE_EXTRA_CA_CERTS")
    stores = cert_stores(ctx)
    system = "system" in stores
    if system and beh["system_store_honours_ssl_cert_file"]:
        out += [v for v in ("SSL_CERT_FILE", "SSL_CERT_DIR") if repo(v)]
    if repo("CLAUDE_CODE_CERT_STORE"):
        entry = _entry(ctx, "CLAUDE_CODE_CERT_STORE") or {}
        # The user's own value is the latest overridden one from outside the repository.
        own = [o.get("value") for o in entry.get("overridden") or []
               if (o.get("source") or {}).get("layer") not in ("project", "local")]
        before = _store_kinds(own[-1], default) if own else _store_kinds(None, default)
        if stores - before:
            out.append("CLAUDE_CODE_CERT_STORE")
    return out


def shell_value(ctx: ProbeContext, var: str) -> str | None:
    """The value the process was started with (the shell's), even when a settings
    ``env`` block overrides it: what a version that ignores the settings block uses."""
    entry = _entry(ctx, var)
    if entry is None:
        return ctx.env.get(var)
    if env_source(ctx, var).get("layer") == "shell":
        return env_value(ctx, var)
    for older in entry.get("overridden") or []:
        if (older.get("source") or {}).get("layer") == "shell":
            value = older.get("value")
            return value if isinstance(value, str) else ctx.env.get(var)
    return None


def behaviour(ctx: ProbeContext) -> dict[str, Any]:
    """Per-version client behaviour: the recorded fact, else knowledge for the version."""
    recorded = ctx.facts.get("client.behaviour")
    if isinstance(recorded, dict) and recorded:
        return recorded
    return client_behaviour(ctx.facts.get("client.version"))
