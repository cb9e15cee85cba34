"""A fake machine for the config probe tests: HOME, a project directory and a system root."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from gwdoctor.engine import Options, ProbeContext
from gwdoctor.probes.config import client_version, settings

CLAUDE = Path(__file__).resolve().parents[2] / ".lab/claude/node_modules/.bin/claude"
CANARY = "sk-canary-7f3a9c1e5d"


class Box:
    """A fake machine: HOME, a project directory and a system root under tmp_path."""

    def __init__(self, tmp: Path) -> None:
        self.home, self.cwd, self.root = tmp / "home", tmp / "proj", tmp / "root"
        for d in (self.home, self.cwd, self.root):
            d.mkdir()

    def write(self, where: str, data: Any) -> Path:
        path = {"user": self.home / ".claude/settings.json",
                "project": self.cwd / ".claude/settings.json",
                "local": self.cwd / ".claude/settings.local.json",
                "managed": self.root / "etc/claude-code/managed-settings.json"}.get(where)
        if path is None:  # a managed drop-in name
            path = self.root / "etc/claude-code/managed-settings.d" / where
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(data if isinstance(data, str) else json.dumps(data))
        return path

    def ctx(self, env: dict[str, str] | None = None, version: str = "2.1.332",
            timeout: float = 4.0) -> ProbeContext:
        ctx = ProbeContext(env={"PATH": "/usr/bin:/bin", **(env or {})}, facts={}, home=self.home,
                           cwd=self.cwd, root=self.root,
                           options=Options(plugin={"client_version": version},
                                           probe_timeout=timeout))
        ctx.facts = dict(client_version.run(ctx))
        return ctx

    def run(self, env: dict[str, str] | None = None,
            **kw: Any) -> tuple[dict[str, Any], ProbeContext]:
        ctx = self.ctx(env, **kw)
        facts = settings.run(ctx)
        json.dumps(facts)  # JSON-safe
        return facts, ctx
