"""Build ProbeContexts for the network probe tests: gateway facts from a URL, per-version
behaviour, the proxy route."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from gwdoctor.engine import Options, ProbeContext
from gwdoctor.probes.client_behaviour import client_behaviour

__all__ = ["net_ctx"]


def net_ctx(url: str, env: dict[str, str] | None = None, *, version: str = "2.1.332",
            timeout: float = 3.0, route: bool = True, root: Path | None = None,
            cwd: Path | None = None, facts: dict[str, Any] | None = None) -> ProbeContext:
    """A context for ``url`` as the gateway; ``route`` runs the proxy.route probe too."""
    from gwdoctor.probes.proxy import proxy_route

    parts = urlsplit(url)
    scheme = parts.scheme
    all_facts: dict[str, Any] = {
        "gateway.base_url": url.rstrip("/"), "gateway.scheme": scheme,
        "gateway.host": parts.hostname,
        "gateway.port": parts.port or (443 if scheme == "https" else 80),
        "gateway.path": parts.path.rstrip("/"), "client.version": version,
        "client.behaviour": client_behaviour(version), **(facts or {}),
    }
    ctx = ProbeContext(env=dict(env or {}), facts=all_facts, options=Options(probe_timeout=timeout),
                       root=root or Path("/"), cwd=cwd or Path.cwd())
    if route:
        all_facts.update(proxy_route.run(ctx))
    return ctx
