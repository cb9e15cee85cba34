"""Build a ProbeContext for the gateway/auth/model probes as the upstream probes would leave it."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from gwdoctor.engine import Options, ProbeContext, Vault, describe_secret

__all__ = ["fire", "gateway_ctx"]


def gateway_ctx(base_url: str, *, token: str | None = None, api_key: str | None = None,
                helper: str | None = None, custom_headers: str | None = None,
                models: dict[str, str] | None = None, env: dict[str, str] | None = None,
                transport: Any = None, timeout: float = 4.0, **facts: Any) -> ProbeContext:
    """``models``: role -> sent id (default: the 2.1.332 defaults). Extra ``facts`` override."""
    parts = urlsplit(base_url)
    vault = Vault()
    vault.put("auth.token", token)
    vault.put("auth.api_key", api_key)
    vault.put("auth.helper_output", helper)
    vault.put("auth.custom_headers", custom_headers)
    if models is None:  # gwdoctor's own prediction for 2.1.332 (knowledge, checked by
                        # tests/capture)
        from gwdoctor.probes.client_behaviour import client_behaviour

        beh = client_behaviour("2.1.332")
        ids = beh["default_models"]
        models = {"main": ids[beh["default_main_alias"]], **ids, "background": ids["haiku"]}
    requested = [{"role": role, "configured": sent, "sent": sent, "source": "default",
                  "remapped": False} for role, sent in models.items()]
    config_env = {}
    for var, value in (env or {}).items():
        config_env[var] = {"value": value, "secret": False,
                           "source": {"layer": "shell", "file": None}, "overridden": []}
        vault.put(f"env.{var}", value)
    base: dict[str, Any] = {
        "client.version": "2.1.332",
        "gateway.base_url": (base_url.rstrip("/") if parts.path not in ("", "/")
                             else base_url.rstrip("/")),
        "gateway.custom": True,
        "gateway.scheme": parts.scheme, "gateway.host": parts.hostname,
        "gateway.port": parts.port or (443 if parts.scheme == "https" else 80),
        "gateway.path": parts.path.rstrip("/"), "gateway.url_error": None,
        "auth.token": describe_secret(token), "auth.api_key": describe_secret(api_key),
        "config.env": config_env,
        "dns.gateway": {"host": parts.hostname, "status": "literal", "addresses": [parts.hostname],
                        "error": None, "duration_ms": 0},
        "connect.gateway": {"status": "ok", "address": parts.hostname, "duration_ms": 1},
        "proxy.route": {"used": False, "variable": None, "url": None,
                        "reason": "no proxy variable"},
        "model.requested": requested,
        "model.distinct": sorted(set(models.values())),
        "gateway.transport_error": None,
    }
    base.update({k.replace("__", "."): v for k, v in facts.items()})
    return ProbeContext(env={}, facts=base, vault=vault, transport=transport,
                        options=Options(probe_timeout=timeout))


def fire(facts: dict[str, Any], rule_id: str) -> list[Any]:
    """The findings of one built-in rule on ``facts`` (its ``needs`` must be present)."""
    from gwdoctor.engine.registry import builtin_rules

    rule = next(r for r in builtin_rules() if r.id == rule_id)
    if "http.faults" not in facts:  # what the faults.http probe adds after the HTTP probes
                                    # in a scan
        from gwdoctor.probes.faults import answers, classify

        facts = {**facts, "http.faults": {name: ids for name, result in answers(facts)
                                          if (ids := classify(result))}}
    missing = [k for k in rule.needs if k not in facts]
    assert not missing, f"{rule_id} needs {missing}"
    return rule.evaluate(facts)
