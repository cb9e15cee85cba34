"""One scan, live or replayed: plugins -> probes (or a facts bundle) -> rules -> ranked, redacted,
validated report."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable, Mapping

from ._version import __version__
from .collect import run_probes
from .evaluate import evaluate
from .graph import GraphIndex, load_index
from .lazyimport import preload
from .model import Options
from .plugins import get_plugin_manager
from .redact import scrub, secret_values
from .registry import Registry, build_registry, with_prerequisites
from .report import build_report, make_bundle, validate_report

VERSION = __version__


@dataclass
class ScanRequest:
    env: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))
    home: Path | None = None
    cwd: Path | None = None
    root: Path = Path("/")
    options: Options = field(default_factory=Options)
    budget: float | None = None
    bundle: Mapping[str, Any] | None = None  # replay: a facts bundle instead of probing
    load_plugins: bool = True
    only: tuple[str, ...] = ()  # probe areas to run (config, dns, ...); empty = all
    transport: Any = None
    on_event: Callable[[Any], None] | None = None
    # A plugin manager already built for this request (the CLI builds one to learn the
    # plugins' options); None builds one from load_plugins.
    manager: Any = None


@dataclass
class ScanOutcome:
    report: dict[str, Any]
    bundle: dict[str, Any]
    registry: Registry


# Imported on a side thread while the first probes wait on `claude --version`, files and
# DNS: what the built-in network probes use (httpx, and httpcore which it imports only when
# its first client is made), the report validator (jsonschema), cryptography for a TLS gateway.
PRELOAD = ("httpx", "httpcore", "jsonschema", "cryptography.x509")


def default_budget(options: Options) -> float:
    """Room for the longest chain of dependent probes (config, dns, proxy/tls,
    gateway, model), each bounded by one I/O timeout, but never minutes."""
    return max(10.0, options.probe_timeout * 4)


def options_dict(options: Options, budget: float) -> dict[str, Any]:
    return {"offline": options.offline, "no_inference": options.no_inference,
            "timeout": options.probe_timeout, "budget": budget, **options.plugin}


def prepare(request: ScanRequest) -> tuple[Registry, GraphIndex]:
    manager = request.manager or get_plugin_manager(load_entrypoints=request.load_plugins,
                                                    env=dict(request.env))
    registry = build_registry(manager)
    return registry, load_index(registry.knowledge_dirs)


@dataclass
class Gathered:
    """The facts of one scan before any rule runs: probed (``mode`` live) or read from a bundle
    (replay). Facts from several gatherings may be merged into one and concluded once."""

    facts: dict[str, Any]
    probes: list[dict[str, Any]]
    options: dict[str, Any]
    plugins: list[dict[str, str]]
    mode: str = "live"
    elapsed_ms: int = 0
    secrets: list[str] = field(default_factory=list)  # values to scrub from the report


def gather(request: ScanRequest, prepared: tuple[Registry, GraphIndex]) -> Gathered:
    """Run the probes (or read ``request.bundle``): the facts, redacted, and the probe records."""
    registry, _ = prepared
    options = request.options
    budget = request.budget or default_budget(options)
    if request.bundle is not None:
        bundle_opts = request.bundle.get("options") or {}
        return Gathered(facts=dict(request.bundle["facts"]),
                        probes=[dict(p) for p in request.bundle.get("probes") or []],
                        options={**options_dict(options, budget), **bundle_opts},
                        plugins=request.bundle.get("plugins") or registry.plugins, mode="replay")
    preload(PRELOAD if not options.offline else ("jsonschema",))
    chosen = registry.probes
    if request.only:
        chosen = with_prerequisites(chosen, [p for p in chosen
                                             if p.name.split(".")[0] in request.only
                                             or p.name in request.only])
    collection = run_probes(
        chosen, registry.owner, env=request.env, options=options, budget=budget,
        initial_facts={"engine.plugin_errors": registry.plugin_errors,
                       "engine.options": options_dict(options, budget)},
        home=request.home, cwd=request.cwd, root=request.root,
        transport=request.transport, on_event=request.on_event,
    )
    secrets = secret_values(request.env, collection.vault)
    return Gathered(facts=scrub(collection.facts, secrets),
                    probes=[r.as_dict() for r in collection.records],
                    options=options_dict(options, budget), plugins=registry.plugins,
                    elapsed_ms=collection.elapsed_ms, secrets=secrets)


def conclude(gathered: Gathered, prepared: tuple[Registry, GraphIndex],
             set_aside: Mapping[str, str] | None = None, static: bool = False) -> ScanOutcome:
    """Evaluate every rule once over the gathered facts; rank, report, redact, validate.

    ``set_aside`` maps rule ids to a reason: those rules are not run and are listed under
    ``not_evaluated`` with it (a caller whose facts cannot speak for them). ``static``: the
    verdict judges the findings alone (a check of given files, no network expected)."""
    registry, index = prepared
    set_aside = set_aside or {}
    facts, secrets = gathered.facts, gathered.secrets
    evaluation = evaluate([r for r in registry.rules if r.id not in set_aside], facts, index)
    if set_aside:
        evaluation = replace(evaluation, not_evaluated=sorted(
            [*evaluation.not_evaluated,
             *({"rule_id": r.id, "rule_name": r.name, "reason": set_aside[r.id], "missing": []}
               for r in registry.rules if r.id in set_aside)], key=lambda d: d["rule_id"]))
    report = build_report(evaluation, facts=facts, probes=gathered.probes, index=index,
                          version=VERSION, mode=gathered.mode, options=gathered.options,
                          plugins=gathered.plugins, elapsed_ms=gathered.elapsed_ms,
                          static=static)
    report = scrub(report, secrets)
    validate_report(report)
    bundle = scrub(make_bundle(facts, gathered.probes, version=VERSION, plugins=gathered.plugins,
                               options=gathered.options), secrets)
    return ScanOutcome(report=report, bundle=bundle, registry=registry)


def run_scan(request: ScanRequest,
             prepared: tuple[Registry, GraphIndex] | None = None) -> ScanOutcome:
    """Run one scan. ``prepared`` (from :func:`prepare`) lets a caller replaying many
    bundles load the plugins and the decision graph once."""
    prepared = prepared or prepare(request)
    return conclude(gather(request, prepared), prepared)
