"""`gwdoctor validate`: the given files, placed where the config probe reads them in a scratch
home, gathered offline as facts and evaluated once, as `scan` does."""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, Sequence

from ._data import SetupError

__all__ = ["LAYERS", "MACHINE_RULES", "Validation", "parse_settings_arg", "validate_files"]

LAYERS = ("user", "project", "local", "managed")
# Rules about this machine's state rather than the files (credentials present in ~/.aws,
# ~/.config/gcloud): a scratch home has none, so in isolated mode their facts say nothing about
# the files; they are set aside (listed under not_evaluated). `gwdoctor scan` checks them for real.
MACHINE_RULES = {"PRV002": "vertex credentials live on the machine, not in the files",
                 "PRV005": "bedrock credentials live on the machine, not in the files"}
# The facts and probes of the gateway host's side; every other fact is the client's.
GATEWAY_PREFIX = "gateway_config."
_ENV_REF = re.compile(r"os\.environ/([A-Za-z_][A-Za-z0-9_]*)")


@dataclass
class Validation:
    report: dict[str, Any]
    rules: list[Any]  # the registry's rules, for the SARIF and JUnit renderers


def parse_settings_arg(arg: str) -> tuple[str, Path]:
    """``[LAYER=]FILE`` -> (layer, path); an untagged file is the user's settings."""
    layer, sep, rest = arg.partition("=")
    if sep and layer in LAYERS:
        return layer, Path(rest)
    return "user", Path(arg)


def _gateway_env(gateway_text: str, shell_env: Mapping[str, str],
                 extra: Mapping[str, str]) -> dict[str, str]:
    # Only what the gateway config itself names: its os.environ/ references must be set
    # where LiteLLM starts, and this is where the user is about to start it.
    wanted = set(_ENV_REF.findall(gateway_text))
    env = {k: shell_env[k] for k in sorted(wanted) if k in shell_env}
    env.update(extra)
    return env


@dataclass
class _Scratch:
    """A scratch home, project and root, and the request options every gathering shares."""

    home: Path
    cwd: Path
    root: Path
    base: dict[str, Any]
    plugin: dict[str, Any]  # the values of options plugins declare (--client-version)
    load_plugins: bool

    def request(self, env: Mapping[str, str], *, gateway_config: Path | None = None,
                only: tuple[str, ...] = ()) -> Any:
        from gwdoctor.engine.model import Options
        from gwdoctor.engine.scan import ScanRequest

        plugin = {**self.plugin, "gateway_config": str(gateway_config) if gateway_config else None}
        options = Options(plugin=plugin, **self.base)
        return ScanRequest(env=dict(env), home=self.home, cwd=self.cwd, root=self.root,
                           options=options, only=only, load_plugins=self.load_plugins)


def _layer_places(scratch: _Scratch, prepared: Any) -> dict[str, Path]:
    """Where the config probe reads each settings layer, from its own ``config.settings_files``
    fact for the empty scratch home: validate never second-guesses the probe's paths."""
    from gwdoctor.engine.scan import gather

    request = scratch.request({"HOME": str(scratch.home)}, only=("config.settings",))
    places: dict[str, Path] = {}
    for entry in gather(request, prepared).facts.get("config.settings_files") or []:
        places.setdefault(str(entry["layer"]), Path(entry["path"]))
    return places


def _relocate(value: Any, files: Mapping[str, str], dirs: Sequence[tuple[str, str]]) -> Any:
    """``value`` (facts, probe records) with each scratch copy's path replaced by the user's
    file it was copied from, and any other scratch path put under ``dirs``' label. Whole
    values only: a path is a fact's value or a field of one, never cut out of a sentence."""
    if isinstance(value, dict):
        return {k: _relocate(v, files, dirs) for k, v in value.items()}
    if isinstance(value, list):
        return [_relocate(v, files, dirs) for v in value]
    if isinstance(value, str):
        if value in files:
            return files[value]
        for prefix, label in dirs:
            if value.startswith(prefix + os.sep):
                return label + value[len(prefix):]
    return value


def _merge(gateway: Any, client: Any, gateway_config: Path) -> Any:
    """One set of facts: the client's, plus the gateway host's ``gateway_config.*``."""
    from gwdoctor.engine.scan import Gathered

    options = {**client.options, "gateway_config": str(gateway_config)}
    facts = {**client.facts, **{k: v for k, v in gateway.facts.items()
                                if k.startswith(GATEWAY_PREFIX)}, "engine.options": options}
    probes = ([p for p in gateway.probes if p["name"].startswith(GATEWAY_PREFIX)]
              + [p for p in client.probes if not p["name"].startswith(GATEWAY_PREFIX)])
    return Gathered(facts=dict(sorted(facts.items())), probes=probes, options=options,
                    plugins=client.plugins, elapsed_ms=gateway.elapsed_ms + client.elapsed_ms,
                    secrets=sorted({*gateway.secrets, *client.secrets}))


def _copy_settings(settings: Sequence[str], places: Mapping[str, Path]) -> dict[str, str]:
    """Copy each ``[LAYER=]FILE`` to its layer's place; scratch path -> the user's path."""
    copies: dict[str, str] = {}
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
        if layer not in places:  # the config probe failed: its record says why
            raise SetupError(f"--settings {arg}: the config probe reported no {layer} settings "
                             "file to place it at (see `gwdoctor scan --only config -v`)")
        dest = places[layer]
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_bytes(data)
        copies[str(dest)] = str(src.expanduser().resolve())
    return copies


def validate_files(*, gateway_config: str | None, settings: Sequence[str],
                   shell_env: Mapping[str, str], use_shell_env: bool = False,
                   extra_env: Mapping[str, str] | None = None,
                   client_env: Mapping[str, str] | None = None,
                   client_version: str | None = None, load_plugins: bool = True) -> Validation:
    """Gather the facts of copies of the files in a scratch home (offline), evaluate once."""
    from gwdoctor.engine.scan import conclude, gather, prepare

    if not gateway_config and not settings:
        raise SetupError("give --gateway-config FILE and/or --settings FILE")
    gw_path = gw_text = None
    if gateway_config:
        gw_path = Path(gateway_config).expanduser().resolve()
        try:
            gw_text = _read_regular(gw_path).decode("utf-8", errors="replace")
        except OSError as exc:
            raise SetupError(f"--gateway-config {gateway_config}: {exc.strerror or exc}") from None
    top = Path(tempfile.mkdtemp(prefix="gwdoctor-validate-"))
    try:
        scratch = _Scratch(home=top / "home", cwd=top / "work", root=top / "root",
                           base={"offline": True, "no_inference": True},
                           plugin={"client_version": client_version},
                           load_plugins=load_plugins)
        for d in (scratch.home, scratch.cwd, scratch.root):
            d.mkdir()
        client_side = {**(client_env or {}), "HOME": str(scratch.home)}
        if use_shell_env:
            # This machine is both gateway host and client: one gathering, the whole environment.
            client_side = {k: v for k, v in shell_env.items() if k != "CLAUDE_CONFIG_DIR"}
            client_side.update({**(extra_env or {}), **(client_env or {}),
                                "HOME": str(scratch.home)})
        prepared = prepare(scratch.request(client_side))
        copies = _copy_settings(settings, _layer_places(scratch, prepared)) if settings else {}
        set_aside: dict[str, str] = {}
        if use_shell_env:
            gathered = gather(scratch.request(client_side, gateway_config=gw_path), prepared)
        else:
            # Two gatherings, so the gateway host's variables (its ANTHROPIC_API_KEY, AWS_*)
            # never look like the client's, and the client's shell is empty: only the files
            # count. Their facts are merged and evaluated once.
            gateway = client = None
            if gw_path is not None:
                gateway = gather(scratch.request(
                    _gateway_env(gw_text or "", shell_env, extra_env or {}),
                    gateway_config=gw_path,
                    # client.version: which upstream ids it reports retired
                    only=("gateway_config", "client.version")), prepared)
            if settings or gateway is None:
                client = gather(scratch.request(client_side), prepared)
            if gateway is not None and client is not None and gw_path is not None:
                gathered = _merge(gateway, client, gw_path)
            else:
                gathered = client or gateway
            set_aside = {rule_id: f"machine state: {why} (run `gwdoctor scan`)"
                         for rule_id, why in MACHINE_RULES.items()}
        dirs = [(str(top), "<scratch>")]
        gathered.facts = _relocate(gathered.facts, copies, dirs)
        gathered.probes = _relocate(gathered.probes, copies, dirs)
        # Isolated, the verdict is the files' own (no network check was ever part of it);
        # with --shell-env it is what an offline `scan` of this machine would say.
        outcome = conclude(gathered, prepared, set_aside=set_aside, static=not use_shell_env)
        return Validation(report=outcome.report, rules=list(outcome.registry.rules))
    finally:
        shutil.rmtree(top, ignore_errors=True)


def _read_regular(path: Path, limit: int = 4 * 2**20) -> bytes:
    """A regular file of at most ``limit`` bytes: a FIFO or /dev/zero would hang or fill memory."""
    if not path.is_file():
        raise OSError(0, "not a regular file" if path.exists() else "no such file")
    if path.stat().st_size > limit:
        raise OSError(0, f"larger than {limit // 2**20} MiB")
    return path.read_bytes()
