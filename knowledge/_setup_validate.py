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


def _scan_env(gateway_text: str | None, shell_env: Mapping[str, str], use_shell: bool,
              extra: Mapping[str, str], home: Path) -> dict[str, str]:
    if use_shell:
        env = {k: v for k, v in shell_env.items() if k != "CLAUDE_CONFIG_DIR"}
    else:
        # Only what the gateway config itself names: its os.environ/ references must be set
        # where LiteLLM starts, and this is where the user is about to start it.
        wanted = set(_ENV_REF.findall(gateway_text or ""))
        env = {k: shell_env[k] for k in sorted(wanted) if k in shell_env}
    env.update(extra)
    env["HOME"] = str(home)
    return env


def _drop_machine_findings(report: dict[str, Any]) -> dict[str, Any]:
    from gwdoctor.engine.model import Severity

    kept, moved = [], []
    for f in report["findings"]:
        (moved if f["rule_id"] in MACHINE_RULES else kept).append(f)
    if not moved:
        return report
    gone = {f["rule_id"] for f in moved}
    for i, f in enumerate(kept, start=1):
        f["rank"] = i
        f["caused_by"] = [c for c in f["caused_by"] if c not in gone]
        f["root_cause"] = f["root_cause"] or not f["caused_by"]
    report["findings"] = kept
    report["not_evaluated"] = sorted(
        [*report["not_evaluated"],
         *({"rule_id": f["rule_id"], "rule_name": f["rule_name"],
            "reason": f"machine state: {MACHINE_RULES[f['rule_id']]} (run `gwdoctor scan`)"}
           for f in moved)], key=lambda d: d["rule_id"])
    summary = report["summary"]
    for label in ("critical", "error", "warning", "info"):
        summary[label] = sum(1 for f in kept if f["severity"] == label)
    summary["root_causes"] = sum(1 for f in kept if f["root_cause"])
    summary["rules_not_evaluated"] = len(report["not_evaluated"])
    worst = max((int(Severity.parse(f["severity"])) for f in kept), default=0)
    if worst >= Severity.ERROR:
        report["verdict_reason"] = f"{summary['critical'] + summary['error']} finding(s) at error or above"
        report["verdict"] = "broken"
    elif worst >= Severity.WARNING:
        report["verdict"], report["verdict_reason"] = "degraded", "warnings only"
    else:
        report["verdict"], report["verdict_reason"] = "healthy", "no finding at warning or above"
    return report


def _unmap(report: dict[str, Any], mapping: Mapping[str, str]) -> dict[str, Any]:
    """Replace scratch paths with the user's own, longest first, throughout the report."""
    text = json.dumps(report)
    for scratch, real in sorted(mapping.items(), key=lambda kv: -len(kv[0])):
        text = text.replace(json.dumps(scratch)[1:-1], json.dumps(real)[1:-1])
    return json.loads(text)


def validate_files(*, gateway_config: str | None, settings: Sequence[str],
                   shell_env: Mapping[str, str], use_shell_env: bool = False,
                   extra_env: Mapping[str, str] | None = None,
                   client_version: str | None = None, load_plugins: bool = True) -> Validation:
    """Run the offline scan over copies of the files in a scratch home; report as `scan` does."""
    from gwdoctor.engine.model import Options
    from gwdoctor.engine.report import validate_report
    from gwdoctor.engine.scan import ScanRequest, run_scan

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
                data = src.expanduser().read_bytes()
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
                gw_text = gw_path.read_text(encoding="utf-8", errors="replace")
            except OSError as exc:
                raise SetupError(f"--gateway-config {gateway_config}: {exc.strerror or exc}") from None
        env = _scan_env(gw_text, shell_env, use_shell_env, extra_env or {}, home)
        options = Options(offline=True, no_inference=True, gateway_config=str(gw_path) if gw_path else None,
                          client_version=client_version)
        outcome = run_scan(ScanRequest(env=env, home=home, cwd=cwd, root=root, options=options,
                                       load_plugins=load_plugins))
        report = outcome.report
        if not use_shell_env:
            report = _drop_machine_findings(report)
        mapping[str(scratch)] = "<scratch>"
        report = _unmap(report, mapping)
        validate_report(report)
        return Validation(report=report, registry=outcome.registry)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
