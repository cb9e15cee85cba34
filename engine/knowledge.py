"""Knowledge files: load YAML safely, report errors with file and line, find the built-in files.

The engine knows no knowledge directory of its own: the built-in ones are those the built-in
plugins (gwdoctor's own entry points) return from ``gwdoctor_register_knowledge``.
"""

from __future__ import annotations

import functools
import hashlib
import json
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from importlib.resources.abc import Traversable

    import yaml


class KnowledgeError(ValueError):
    """A knowledge file that cannot be used; the message names the file and line."""


def yaml_error_location(exc: "yaml.YAMLError") -> tuple[int | None, int | None]:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    if mark is None:
        return None, None
    return mark.line + 1, mark.column + 1


def load_yaml_text(text: str, name: str) -> Any:
    """Safe YAML loading (no tags executed) with a one-line error naming file:line:col.

    Uses libyaml's C loader when PyYAML has it: the decision graph alone took
    0.8 s with the pure-Python loader and ~0.05 s with the C one."""
    import yaml  # on use: a scan whose knowledge is cached never imports it (~25 ms)

    try:
        return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.YAMLError as exc:
        line, col = yaml_error_location(exc)
        where = f"{name}:{line}:{col}" if line else name
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise KnowledgeError(f"{where}: invalid YAML: {problem}") from None


def load_yaml_cached(text: str, name: str) -> Any:
    """:func:`load_yaml_text`, kept in the on-disk cache as JSON keyed by the text's hash:
    an unchanged knowledge file is read with ``json.loads`` and PyYAML is not imported.
    Data that does not survive a JSON round trip (dates, non-string keys) is not cached."""
    from .cache import read_json, write_json

    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    key = digest[:24]
    stem = "knowledge-" + "".join(c if c.isalnum() else "_" for c in name)
    entry = f"{stem}-{key}.json"
    cached = read_json(entry)
    # Only an entry that says which text it was made from and holds a mapping (every
    # knowledge file is one): a damaged or planted entry is parsed again, not trusted.
    if (isinstance(cached, dict) and cached.get("sha256") == digest
            and isinstance(cached.get("data"), dict)):
        return cached["data"]
    data = load_yaml_text(text, name)
    try:
        same = json.loads(json.dumps(data, allow_nan=False)) == data
    except (TypeError, ValueError, RecursionError):
        same = False
    if same and isinstance(data, dict):
        write_json(entry, {"sha256": digest, "data": data}, replaces=f"{stem}-")
    return data


@functools.lru_cache(maxsize=None)
def builtin_dirs() -> tuple["Traversable", ...]:
    """The knowledge directories of the built-in plugins, from ``gwdoctor_register_knowledge``
    (third-party plugins and ``GWDOCTOR_DISABLE_PLUGINS`` play no part: the built-in files a
    probe or the redactor reads do not change with the plugins installed)."""
    # The hook called on the built-in modules directly, in registration order: the same
    # directories as a plugin manager's (tests/engine/test_knowledge_supplied.py) without
    # building one (~10 ms).
    from .entrypoints import builtin_modules

    dirs: list[Traversable] = []
    for module in builtin_modules():
        hook = getattr(module, "gwdoctor_register_knowledge", None)
        if callable(hook):
            dirs.extend(hook() or [])
    return tuple(dirs)


def builtin_file(filename: str) -> "Traversable":
    """``filename`` (a relative path) in the first built-in knowledge directory that has it."""
    dirs = builtin_dirs()
    for directory in dirs:
        path = directory / filename
        if path.is_file():
            return path
    raise KnowledgeError(f"knowledge/{filename}: in no built-in knowledge directory "
                         f"({', '.join(str(d) for d in dirs) or 'none registered'})")


def builtin_dir() -> "Traversable":
    """The first built-in knowledge directory (the one that holds ``schemas/``). Prefer
    :func:`read_builtin`, which finds a file in whichever built-in directory has it."""
    for directory in builtin_dirs():
        if (directory / "schemas").is_dir():
            return directory
    raise KnowledgeError("no built-in knowledge directory has schemas/")


def read_builtin(filename: str) -> Any:
    """A built-in knowledge file (YAML), through the on-disk cache."""
    path = builtin_file(filename)
    return load_yaml_cached(path.read_text(encoding="utf-8"), f"knowledge/{filename}")


@functools.lru_cache(maxsize=None)
def areas() -> dict[str, str]:
    """Rule-id prefix -> area name, in the order the docs show the areas (``areas.yaml`` of the
    built-in knowledge)."""
    return {a["prefix"]: a["name"] for a in read_builtin("areas.yaml")["areas"]}


@functools.lru_cache(maxsize=None)
def diagnosis() -> dict[str, Any]:
    """The client a report diagnoses (its name, title and version facts) and the facts that say
    the checks deciding "healthy" ran (``diagnosis.yaml`` of the built-in knowledge)."""
    return read_builtin("diagnosis.yaml")


def read_yaml(directory: "Traversable", filename: str) -> Any:
    path = directory / filename
    return load_yaml_cached(path.read_text(encoding="utf-8"), f"knowledge/{filename}")


@functools.lru_cache(maxsize=None)
def schema(kind: str) -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) for a knowledge file kind or the report."""
    path = builtin_file(f"schemas/{kind}.schema.json")
    return json.loads(path.read_text(encoding="utf-8"))


def validate(data: Any, kind: str, name: str) -> None:
    import jsonschema  # imported on use: keeps start-up light

    validator = jsonschema.Draft202012Validator(schema(kind))
    errors = sorted(validator.iter_errors(data), key=lambda e: list(e.absolute_path))
    if errors:
        err = errors[0]
        where = "/".join(str(p) for p in err.absolute_path) or "(top)"
        raise KnowledgeError(f"{name}: {where}: {err.message}")


def parse_version(text: str | None) -> tuple[int, ...] | None:
    if not text:
        return None
    parts = []
    for piece in str(text).strip().split("."):
        digits = "".join(ch for ch in piece if ch.isdigit())
        if not digits:
            break
        parts.append(int(digits))
    return tuple(parts) or None


def merge_behaviour(data: dict[str, Any], version: str | None) -> dict[str, Any]:
    """The ``set`` mappings of the ``behaviours`` entries of ``data`` whose ``since``/``until``
    range holds ``version`` (``data["assumed_version"]`` when unknown), merged in order."""
    wanted = parse_version(version) or parse_version(data["assumed_version"])
    merged: dict[str, Any] = {}
    for entry in data["behaviours"]:
        since = parse_version(entry["since"]) or (0,)
        until = parse_version(entry.get("until"))
        if wanted is not None and wanted >= since and (until is None or wanted < until):
            merged.update(entry["set"])
    return merged

