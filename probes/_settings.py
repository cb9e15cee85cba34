"""Claude Code settings layers: locate, load (as strictly as the client), merge the env blocks.
File reads only."""

from __future__ import annotations

import functools
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from gwdoctor.engine.knowledge import read_builtin

from ._io import MAX_JSON_DEPTH, json_depth, read_file

__all__ = ["Layer", "known_variables", "load_layers", "merge_env", "merged_key", "source", "truthy"]

# Claude Code rejects bigger files: "Error: Settings file exceeds the 2MiB limit" (_io.LIMITS).
MAX_SETTINGS_BYTES = 2 * 1024 * 1024

# String-valued keys the client types strictly; a wrong type makes the file invalid.
STRING_KEYS = ("apiKeyHelper", "model", "awsAuthRefresh", "awsCredentialExport", "gcpAuthRefresh")


@functools.lru_cache(maxsize=None)
def known_variables() -> dict[str, dict[str, Any]]:
    """Variable name -> its entry in knowledge/variables.yaml (the client's variables, which are
    secret). Read here, not through rules._providers: a probe imports no rule module."""
    data = read_builtin("variables.yaml")
    return {v["name"]: v for v in data["variables"]}


def truthy(value: str | None) -> bool:
    """The client's boolean reading: 1/true (any case) on, everything else off."""
    return (value or "").strip().lower() in ("1", "true", "yes", "on")


def source(layer: str, file: str | None) -> dict[str, Any]:
    return {"layer": layer, "file": file}


@dataclass
class Layer:
    layer: str
    path: Path
    exists: bool = False
    valid: bool = False
    data: dict[str, Any] = field(default_factory=dict)
    invalid: dict[str, Any] | None = None

    def entry(self) -> dict[str, Any]:
        env = self.data.get("env") if self.valid else None
        return {"path": str(self.path), "layer": self.layer, "exists": self.exists,
                "valid": self.valid, "env_keys": sorted(env) if isinstance(env, dict) else [],
                "keys": sorted(self.data) if self.valid else []}

    @property
    def src(self) -> dict[str, Any]:
        return source(self.layer, str(self.path))


def managed_dir(root: Path, platform: str | None = None) -> Path:
    """The file-based managed settings directory for this platform (under ``root`` for tests)."""
    platform = platform or sys.platform
    if platform == "darwin":
        return root / "Library" / "Application Support" / "ClaudeCode"
    if platform.startswith("win"):
        return root / "Program Files" / "ClaudeCode"
    return root / "etc" / "claude-code"


def layer_paths(env: Mapping[str, str], home: Path, cwd: Path,
                root: Path) -> list[tuple[str, Path]]:
    """Every settings file the client reads, lowest precedence first."""
    config_dir = env.get("CLAUDE_CONFIG_DIR")
    user_dir = Path(config_dir).expanduser() if config_dir else home / ".claude"
    if not user_dir.is_absolute():
        user_dir = cwd / user_dir
    user = user_dir / "settings.json"
    out: list[tuple[str, Path]] = [("user", user)]
    project = cwd / ".claude" / "settings.json"
    # Run from $HOME, the project file *is* the user file: count it once.
    if project != user:
        out.append(("project", project))
    out.append(("local", cwd / ".claude" / "settings.local.json"))
    mdir = managed_dir(root)
    out.append(("managed", mdir / "managed-settings.json"))
    dropins = mdir / "managed-settings.d"
    try:
        names = sorted(p.name for p in dropins.iterdir() if p.name.endswith(".json"))
    except OSError:
        names = []
    out.extend(("managed", dropins / name) for name in names)
    return out


def _reject_constant(name: str) -> Any:
    # JSON.parse rejects NaN/Infinity; Python's json would accept them.
    raise ValueError(f"{name} is not valid JSON")


def _invalid(layer: Layer, message: str, line: int | None = None, col: int | None = None) -> Layer:
    layer.valid = False
    layer.data = {}
    layer.invalid = {"path": str(layer.path), "layer": layer.layer, "line": line,
                     "column": col, "message": message}
    return layer


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "list"
    return "object"


def _check_types(data: Any) -> str | None:
    if not isinstance(data, dict):
        return f"top level is {_json_type(data)}, not an object"
    env = data.get("env")
    if env is not None and not isinstance(env, dict):
        return f"'env' must be an object of strings, not {_json_type(env)}"
    for key, value in (env or {}).items():
        if not isinstance(value, str):
            # Name the JSON type only: the value may be a secret typed into the wrong shape.
            return f"'env.{key}' must be a string, not {_json_type(value)}"
    for key in STRING_KEYS:
        if key in data and not isinstance(data[key], str):
            return f"'{key}' must be a string"
    return None


def load_layer(layer: str, path: Path) -> Layer:
    out = Layer(layer, path)
    # Bounded (_io): a FIFO or a device is a problem found after opening it, never a read.
    read = read_file(path, "settings")
    if read.missing:
        return out
    out.exists = True
    if not read.ok:
        problem = read.problem or "unreadable"
        return _invalid(out, "Settings file exceeds the 2MiB limit"
                        if problem.startswith("larger than") else problem)
    raw = read.data or b""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        return _invalid(out, f"not UTF-8 text (byte {exc.start})")
    if not text.strip():
        return _invalid(out, "empty file: not valid JSON", 1, 1)
    try:
        data = json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        return _invalid(out, exc.msg, exc.lineno, exc.colno)
    except RecursionError:
        return _invalid(out, f"nested more than {MAX_JSON_DEPTH} levels deep")
    except ValueError as exc:
        return _invalid(out, str(exc)[:200])
    if json_depth(data) > MAX_JSON_DEPTH:
        return _invalid(out, f"nested more than {MAX_JSON_DEPTH} levels deep")
    type_problem = _check_types(data)
    if type_problem:
        return _invalid(out, type_problem)
    out.valid, out.data = True, data
    return out


def load_layers(env: Mapping[str, str], home: Path, cwd: Path, root: Path) -> list[Layer]:
    return [load_layer(name, path) for name, path in layer_paths(env, home, cwd, root)]


def merged_key(layers: list[Layer], key: str) -> tuple[Any, Layer | None]:
    """A top-level settings key as the client sees it: the highest valid layer that sets it."""
    for layer in reversed(layers):
        if layer.valid and key in layer.data:
            return layer.data[key], layer
    return None, None


def merge_env(shell: Mapping[str, str], layers: list[Layer], *,
              empty_unsets: bool = False) -> tuple[dict[str, dict[str, Any]], list[dict[str, Any]]]:
    """The effective raw env: settings env blocks beat the shell, later layers beat earlier.

    Returns ``({VAR: {"raw", "source", "overridden": [{"source", "raw"}]}}, empty_overrides)``.
    Unless ``empty_unsets`` (this version's ``settings_empty_value_unsets``), an entry set to ""
    does not unset a variable (anthropics/claude-code#22004), except ``CLAUDE_CODE_USE_*``,
    which the client reads as unset for provider selection.
    """
    eff: dict[str, dict[str, Any]] = {
        k: {"raw": v, "source": source("shell", None), "overridden": []} for k, v in shell.items()
    }
    empties: list[dict[str, Any]] = []
    for layer in layers:
        if not layer.valid:
            continue
        for var, value in (layer.data.get("env") or {}).items():
            prior = eff.get(var)
            if (value == "" and prior and prior["raw"] and not empty_unsets
                    and not var.startswith("CLAUDE_CODE_USE_")):
                empties.append({"var": var, "source": layer.src,
                                "shell_value_present": bool(shell.get(var)),
                                "kept_source": prior["source"]})
                continue
            overridden = (prior["overridden"] + [{"source": prior["source"], "raw": prior["raw"]}]
                          if prior else [])
            eff[var] = {"raw": value, "source": layer.src, "overridden": overridden}
    return eff, empties
