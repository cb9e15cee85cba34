"""`gwdoctor validate`: an offline scan of given files, placed where the config probe reads them, in a scratch home."""

from __future__ import annotations

import json
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, Sequence

from ._setup_data import SetupError

__all__ = ["LAYERS", "MACHINE_RULES", "Validation", "parse_settings_arg", "validate_files"]

LAYERS = ("user", "project", "local", "managed")
# Findings about this machine's state rather than the files (credentials present in
# ~/.aws, ~/.config/gcloud): a scratch home has none, so in isolated mode they say nothing
# about the files and are moved to not_evaluated. `gwdoctor scan` checks them for real.
MACHINE_RULES = {"PRV002": "vertex credentials live on the machine, not in the files",
                 "PRV005": "bedrock credentials live on the machine, not in the files"}
_ENV_REF = re.compile(r"os\.environ/([A-Za-z_][A-Za-z0-9_]*)")


@dataclass
class Validation:
    report: dict[str, Any]
    registry: Any


def parse_settings_arg(arg: str) -> tuple[str, Path]:
    """``[LAYER=]FILE`` -> (layer, path); an untagged file is the user's settings."""
    layer, sep, rest = arg.partition("=")
    if sep and layer in LAYERS:
        return layer, Path(rest)
    return "user", Path(arg)


def _place(layer: str, home: Path, cwd: Path, root: Path) -> Path:
    from gwdoctor.probes._settings import managed_dir

    return {"user": home / ".claude" / "settings.json",
            "project": cwd / ".claude" / "settings.json",
            "local": cwd / ".claude" / "settings.local.json",
            "managed": managed_dir(root) / "managed-settings.json"}[layer]


def _gateway_env(gateway_text: str, shell_env: Mapping[str, str],
                 extra: Mapping[str, str]) -> dict[str, str]:
    # Only what the gateway config itself names: its os.environ/ references must be set
    # where LiteLLM starts, and this is where the user is about to start it.
    wanted = set(_ENV_REF.findall(gateway_text))
    env = {k: shell_env[k] for k in sorted(wanted) if k in shell_env}
    env.update(extra)
    return env


def _resummarize(report: dict[str, Any]) -> dict[str, Any]:
    """Ranks, summary and verdict again after findings were added or removed."""
    from gwdoctor.engine.model import Severity

    findings = report["findings"]
    ids = {f["rule_id"] for f in findings}
    for i, f in enumerate(findings, start=1):
        f["rank"] = i
        f["caused_by"] = [c for c in f["caused_by"] if c in ids]
        f["root_cause"] = bool(f["root_cause"] or not f["caused_by"])
    summary = report["summary"]
    for label in ("critical", "error", "warning", "info"):
        summary[label] = sum(1 for f in findings if f["severity"] == label)
    summary["root_causes"] = sum(1 for f in findings if f["root_cause"])
    summary["rules_not_evaluated"] = len(report["not_evaluated"])
    worst = max((int(Severity.parse(f["severity"])) for f in findings), default=0)
    if worst >= Severity.ERROR:
        report["verdict"] = "broken"
        report["verdict_reason"] = f"{summary['critical'] + summary['error']} finding(s) at error or above"
    elif worst >= Severity.WARNING:
        report["verdict"], report["verdict_reason"] = "degraded", "warnings only"
    else:
        report["verdict"], report["verdict_reason"] = "healthy", "no finding at warning or above"
    return report


def _drop_machine_findings(report: dict[str, Any]) -> dict[str, Any]:
    moved = [f for f in report["findings"] if f["rule_id"] in MACHINE_RULES]
    report["findings"] = [f for f in report["findings"] if f["rule_id"] not in MACHINE_RULES]
    report["not_evaluated"] = sorted(
        [*report["not_evaluated"],
         *({"rule_id": f["rule_id"], "rule_name": f["rule_name"],
            "reason": f"machine state: {MACHINE_RULES[f['rule_id']]} (run `gwdoctor scan`)"}
           for f in moved)], key=lambda d: d["rule_id"])
    return _resummarize(report)


def _merge(gateway: dict[str, Any], client: dict[str, Any]) -> dict[str, Any]:
    """One report from the gateway-host scan and the client scan: gateway findings first."""
    evaluated = {n["rule_id"] for n in client["not_evaluated"]} - {
        n["rule_id"] for n in gateway["not_evaluated"]}
    client["findings"] = gateway["findings"] + client["findings"]
    client["not_evaluated"] = [n for n in client["not_evaluated"] if n["rule_id"] not in evaluated]
    client["facts"] = dict(sorted({**client["facts"], **{
        k: v for k, v in gateway["facts"].items() if k.startswith("gateway_config.")}}.items()))
    client["probes"] = [p for p in gateway["probes"] if p["name"].startswith("gateway_config.")] + [
        p for p in client["probes"] if not p["name"].startswith("gateway_config.")]
    client["options"] = {**client["options"], "gateway_config": gateway["options"].get("gateway_config")}
    client["summary"]["rules_evaluated"] = max(client["summary"]["rules_evaluated"],
                                               gateway["summary"]["rules_evaluated"])
    return _resummarize(client)


def _scan(env: dict[str, str], home: Path, cwd: Path, root: Path, gw_path: Path | None,
          base: dict[str, Any], only: tuple[str, ...], load_plugins: bool) -> tuple[dict[str, Any], Any]:
    from gwdoctor.engine.model import Options
    from gwdoctor.engine.scan import ScanRequest, run_scan

    options = Options(gateway_config=str(gw_path) if gw_path else None, **base)
    outcome = run_scan(ScanRequest(env=env, home=home, cwd=cwd, root=root, options=options,
                                   only=only, load_plugins=load_plugins))
    return outcome.report, outcome.registry


def _unmap(report: dict[str, Any], mapping: Mapping[str, str]) -> dict[str, Any]:
    """Replace scratch paths with the user's own, longest first, throughout the report."""
    text = json.dumps(report)
    for scratch, real in sorted(mapping.items(), key=lambda kv: -len(kv[0])):
        text = text.replace(json.dumps(scratch)[1:-1], json.dumps(real)[1:-1])
    return json.loads(text)


def validate_files(*, gateway_config: str | None, settings: Sequence[str],
                   shell_env: Mapping[str, str], use_shell_env: bool = False,
                   extra_env: Mapping[str, str] | None = None,
                   client_env: Mapping[str, str] | None = None,
                   client_version: str | None = None, load_plugins: bool = True) -> Validation:
    """Run the offline scan over copies of the files in a scratch home; report as `scan` does."""
    from gwdoctor.engine.report import validate_report

    if not gateway_config and not settings:
        raise SetupError("give --gateway-config FILE and/or --settings FILE")
    scratch = Path(tempfile.mkdtemp(prefix="gwdoctor-validate-"))
    try:
        home, cwd, root = scratch / "home", scratch / "work", scratch / "root"
        for d in (home, cwd, root):
            d.mkdir()
        mapping: dict[str, str] = {}
        seen: set[str] = set()
        for arg in settings:
            layer, src = parse_settings_arg(arg)
            if layer in seen:
                raise SetupError(f"--settings {arg}: two files for the {layer} layer "
                                 "(tag them, e.g. project=.claude/settings.json)")
            seen.add(layer)
            try:
                data = _read_regular(src.expanduser())
            except OSError as exc:
                raise SetupError(f"--settings {src}: {exc.strerror or exc}") from None
            dest = _place(layer, home, cwd, root)
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.write_bytes(data)
            mapping[str(dest)] = str(src.expanduser().resolve())
        gw_text = None
        gw_path = None
        if gateway_config:
            gw_path = Path(gateway_config).expanduser().resolve()
            try:
                gw_text = _read_regular(gw_path).decode("utf-8", errors="replace")
            except OSError as exc:
                raise SetupError(f"--gateway-config {gateway_config}: {exc.strerror or exc}") from None
        base = {"offline": True, "no_inference": True, "client_version": client_version}
        if use_shell_env:
            # This machine is both gateway host and client: one scan, the whole environment.
            env = {k: v for k, v in shell_env.items() if k != "CLAUDE_CONFIG_DIR"}
            env.update({**(extra_env or {}), **(client_env or {}), "HOME": str(home)})
            report, registry = _scan(env, home, cwd, root, gw_path, base, (), load_plugins)
        else:
            # Two scans so the gateway host's variables (its ANTHROPIC_API_KEY, AWS_*) never
            # look like the client's, and the client's shell is empty: only the files count.
            gw_report = None
            if gw_path is not None:
                gw_report, registry = _scan(_gateway_env(gw_text or "", shell_env, extra_env or {}),
                                            home, cwd, root, gw_path, base,
                                            # client.version: which upstream ids it reports retired
                                            ("gateway_config", "client.version"), load_plugins)
                report = gw_report
            if settings or gw_path is None:
                report, registry = _scan({**(client_env or {}), "HOME": str(home)}, home, cwd, root,
                                         None, base, (), load_plugins)
                if gw_report is not None:
                    report = _merge(gw_report, report)
            report = _drop_machine_findings(report)
        mapping[str(scratch)] = "<scratch>"
        report = _unmap(report, mapping)
        validate_report(report)
        return Validation(report=report, registry=registry)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _read_regular(path: Path, limit: int = 4 * 2**20) -> bytes:
    """A regular file of at most ``limit`` bytes: a FIFO or /dev/zero would hang or fill memory."""
    if not path.is_file():
        raise OSError(0, "not a regular file" if path.exists() else "no such file")
    if path.stat().st_size > limit:
        raise OSError(0, f"larger than {limit // 2**20} MiB")
    return path.read_bytes()
