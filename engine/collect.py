"""Run probes as a dependency graph: independent probes concurrently, each with a time limit,
the scan within a budget.

A probe starts as soon as the probes providing its ``needs``/``requires`` have
finished. A probe whose prerequisite is missing or false is skipped at once,
with the reason recorded, so timeouts never stack: a dead gateway costs one
timeout, not one per probe behind it. A probe that raises or overruns becomes
an ``engine.*`` fact (and so a finding) while the rest of the scan completes.
Probe threads are daemons: one that ignores its timeout is abandoned, never
waited on.
"""

from __future__ import annotations

import queue
import threading
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Mapping

from .model import Options, Probe, ProbeContext, ProbeSkipped, Vault

MAX_PARALLEL = 8


@dataclass
class ProbeRecord:
    name: str
    plugin: str
    status: str = "pending"  # ok | failed | skipped | error | timeout
    duration_ms: int = 0
    detail: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "plugin": self.plugin, "status": self.status,
                "duration_ms": self.duration_ms, "detail": self.detail}


@dataclass
class Collection:
    facts: dict[str, Any]
    records: list[ProbeRecord]
    vault: Vault
    elapsed_ms: int = 0
    budget_exhausted: bool = False
    extra: dict[str, Any] = field(default_factory=dict)


def probe_limit(p: Probe, options: Options) -> float:
    """A probe's hard limit: its own, else room for two I/O timeouts in a row
    (e.g. CONNECT then handshake) plus half a second."""
    return p.timeout if p.timeout is not None else options.probe_timeout * 2 + 0.5


def _derive_status(result: Mapping[str, Any]) -> tuple[str, str]:
    """The status a probe reports about what it checked (``_status``, e.g. ``failed``, and
    ``_detail``), recorded as it is; ``ok`` when it reports none."""
    return str(result.get("_status") or "ok"), str(result.get("_detail") or "")


def run_probes(
    probes: list[Probe],
    owners: Mapping[str, str],
    *,
    env: Mapping[str, str],
    options: Options,
    budget: float,
    initial_facts: Mapping[str, Any] | None = None,
    home: Path | None = None,
    cwd: Path | None = None,
    root: Path = Path("/"),
    transport: Any = None,
    on_event: Any = None,
) -> Collection:
    """Run ``probes``; ``on_event(record)`` is called on every status change (progress display)."""
    start = time.monotonic()
    deadline = start + budget
    facts: dict[str, Any] = dict(initial_facts or {})
    vault = Vault()
    provider = {key: p.name for p in probes for key in p.provides}
    records = {p.name: ProbeRecord(p.name, owners.get(p.name, "?")) for p in probes}
    pending = {p.name: p for p in probes}
    running: dict[str, tuple[Probe, float]] = {}
    done: set[str] = set()
    results: queue.Queue[tuple[str, str, Any, float]] = queue.Queue()
    base_ctx = ProbeContext(env=env, facts={}, home=home or Path.home(), cwd=cwd or Path.cwd(),
                            options=options, vault=vault, transport=transport, root=root)
    errors: list[dict[str, Any]] = []
    timeouts: list[dict[str, Any]] = []

    def emit(rec: ProbeRecord) -> None:
        if on_event is not None:
            on_event(rec)

    def finish(name: str, status: str, detail: str, duration: float) -> None:
        rec = records[name]
        rec.status, rec.detail, rec.duration_ms = status, detail, int(duration * 1000)
        done.add(name)
        emit(rec)

    def upstream(p: Probe) -> set[str]:
        return {provider[k] for k in (*p.needs, *p.requires, *p.after)
                if k in provider and provider[k] != p.name}

    def blocker(p: Probe) -> str | None:
        if options.offline and p.network:
            return "--offline: network probes are off"
        if options.no_inference and p.inference:
            return "--no-inference: paid model requests are off"
        for key in p.needs:
            if key not in facts:
                src = provider.get(key)
                why = f"probe {src} {records[src].status}" if src else "no probe provides it"
                return f"needs {key} ({why})"
        for key in p.requires:
            if key not in facts:
                src = provider.get(key)
                why = f"probe {src} {records[src].status}" if src else "no probe provides it"
                return f"requires {key} ({why})"
            if not facts[key]:
                return f"prerequisite {key} is {facts[key]!r}"
        return None

    def worker(p: Probe, snapshot: dict[str, Any]) -> None:
        t0 = time.monotonic()
        ctx = replace(base_ctx, facts=snapshot)
        try:
            out = p.run(ctx)
            results.put((p.name, "ok", out, time.monotonic() - t0))
        except ProbeSkipped as exc:
            results.put((p.name, "skipped", str(exc), time.monotonic() - t0))
        except Exception as exc:  # noqa: BLE001  a probe's bug must not end the scan
            results.put((p.name, "error", f"{type(exc).__name__}: {exc}"[:300],
                         time.monotonic() - t0))

    while pending or running:
        # Start everything whose upstream probes are done.
        for name in sorted(pending):
            p = pending[name]
            if upstream(p) - done:
                continue
            if len(running) >= MAX_PARALLEL:
                break
            del pending[name]
            reason = blocker(p)
            if reason:
                finish(name, "skipped", reason, 0.0)
                continue
            if time.monotonic() >= deadline:
                finish(name, "skipped", f"scan budget of {budget:g} s exhausted", 0.0)
                continue
            records[name].status = "running"
            emit(records[name])
            running[name] = (p, time.monotonic())
            threading.Thread(target=worker, args=(p, dict(facts)), daemon=True,
                             name=f"probe:{name}").start()
        if not running:
            if pending and all(upstream(p) - done for p in pending.values()):
                for name in sorted(pending):  # unreachable dependency (a cycle): skip
                    finish(name, "skipped", "its prerequisites never finished", 0.0)
                pending.clear()
            continue
        now = time.monotonic()
        next_limit = min(min(t0 + probe_limit(p, options) for p, t0 in running.values()), deadline)
        try:
            name, status, payload, duration = results.get(timeout=max(0.0, next_limit - now))
        except queue.Empty:
            now = time.monotonic()
            for name, (p, t0) in list(running.items()):
                limit = probe_limit(p, options)
                if now >= t0 + limit or now >= deadline:
                    del running[name]
                    spent = now - t0
                    why = (f"exceeded its {limit:g} s limit" if now >= t0 + limit
                           else f"scan budget of {budget:g} s ran out")
                    timeouts.append({"probe": name, "plugin": records[name].plugin,
                                     "timeout_s": round(min(limit, spent), 2)})
                    finish(name, "timeout", why, spent)
            continue
        if name not in running:  # finished after we gave up on it: ignore late facts
            continue
        p, _t0 = running.pop(name)
        if status == "ok":
            out = dict(payload or {})
            unknown = sorted(k for k in out if k not in p.provides and not k.startswith("_"))
            for key in p.provides:
                if key in out:
                    facts[key] = out[key]
            st, detail = _derive_status(out)
            if unknown:
                detail = (detail + "; " if detail else "") + f"undeclared facts dropped: {unknown}"
            finish(name, st, detail, duration)
        elif status == "skipped":
            finish(name, "skipped", str(payload), duration)
        else:
            errors.append({"probe": name, "plugin": records[name].plugin, "error": str(payload)})
            finish(name, "error", str(payload), duration)

    facts["engine.probe_errors"] = errors
    facts["engine.probe_timeouts"] = timeouts
    ordered = [records[p.name] for p in probes]
    return Collection(facts=facts, records=ordered, vault=vault,
                      elapsed_ms=int((time.monotonic() - start) * 1000),
                      budget_exhausted=time.monotonic() >= deadline)
