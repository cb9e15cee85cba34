"""The machine and the versions a set of figures was measured with."""

from __future__ import annotations

import os
import platform
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

from _setups import LITELLM_BIN, REPO
from bench_client import client_version

SQUID = os.environ.get("GWDOCTOR_SQUID", "/usr/sbin/squid")


def _run(args: list[str], timeout: float = 20) -> str:
    try:
        out = subprocess.run(args, capture_output=True, text=True, timeout=timeout)
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return (out.stdout or out.stderr).strip()


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def os_name() -> str:
    try:
        text = Path("/etc/os-release").read_text()
        match = re.search(r'^PRETTY_NAME="?([^"\n]+)', text, re.M)
        if match:
            return f"{match.group(1)} (kernel {platform.release()})"
    except OSError:
        pass
    return platform.platform()


def litellm_version() -> str | None:
    py = LITELLM_BIN.parent / "python"
    if not py.exists():
        return None
    return _run([str(py), "-c",
                 "import importlib.metadata as m; print(m.version('litellm'))"]) or None


def squid_version() -> str | None:
    if not Path(SQUID).exists():
        return None
    first = _run([SQUID, "-v"]).splitlines()
    match = re.search(r"Version (\S+)", first[0]) if first else None
    return match.group(1) if match else None


def describe() -> dict[str, Any]:
    gw = Path(sys.executable).parent / "gwdoctor"
    try:
        with open("/proc/meminfo") as fh:
            mem_kb = int(fh.readline().split()[1])
    except (OSError, ValueError, IndexError):
        mem_kb = 0
    return {
        "cores": os.cpu_count(),
        "cpu": cpu_model(),
        "memory_gib": round(mem_kb / 2**20, 1) if mem_kb else None,
        "python": platform.python_version(),
        "os": os_name(),
        "gwdoctor": _run([str(gw), "--version"]).split()[-1] if gw.exists() else None,
        "gwdoctor_commit": _run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"]) or None,
        "litellm": litellm_version(),
        "claude_code": client_version(),
        "node": _run(["node", "--version"]) or None,
        "squid": squid_version(),
    }
