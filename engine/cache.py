"""A small on-disk cache for derived data (compiled graph, client version by binary); never
required."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any


def cache_dir() -> Path | None:
    """``$GWDOCTOR_CACHE_DIR`` (empty: no cache), else ``$XDG_CACHE_HOME/gwdoctor``,
    else ``~/.cache/gwdoctor``."""
    explicit = os.environ.get("GWDOCTOR_CACHE_DIR")
    if explicit == "":
        return None
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "gwdoctor"


def read_json(name: str) -> Any:
    """The cached value, or ``None`` when absent or damaged."""
    folder = cache_dir()
    if folder is None:
        return None
    path = folder / name
    try:
        # Regular files only: a FIFO planted in the cache would hang every scan.
        if not path.is_file() or path.stat().st_size > 16 * 2**20:
            return None
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError):
        return None


def write_json(name: str, data: Any, *, replaces: str = "") -> None:
    """Best effort and atomic: a read-only home just goes without the cache. ``replaces``:
    a name prefix whose other entries this one supersedes (removed, so an edited
    knowledge file leaves no stale copies behind)."""
    folder = cache_dir()
    if folder is None:
        return
    try:
        folder.mkdir(parents=True, exist_ok=True)
        tmp = folder / f"{name}.{os.getpid()}.tmp"
        tmp.write_text(json.dumps(data), encoding="utf-8")
        os.replace(tmp, folder / name)
        if replaces:
            for old in folder.glob(f"{replaces}*.json"):
                if old.name != name:
                    old.unlink(missing_ok=True)
    except OSError:
        pass
