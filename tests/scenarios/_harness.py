"""Scenario harness: materialise a setup (env, settings files, gateway config, live parts) and
scan it.

A scenario file (tests/scenarios/*.yaml) names the real parts it needs; the harness
starts them through the session fixtures, substitutes their addresses into the
scenario's text with ``{placeholders}``, writes the files under a temporary HOME,
project directory and system root, and runs a real scan in-process.
"""

from __future__ import annotations

import json
import os
import socket
import ssl
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import yaml

REPO = Path(__file__).resolve().parents[2]
SCENARIOS = Path(__file__).resolve().parent
CLAUDE = Path(os.environ.get("GWDOCTOR_CLAUDE") or REPO / ".lab/claude/node_modules/.bin/claude")
TOP_KEYS = {"description", "parts", "env", "files", "gateway_config", "options", "expect", "client",
            "client_model", "client_expect"}
EXPECT_KEYS = {"healthy", "top", "top_cause", "ranked", "fires", "absent", "verdict", "symptom_of",
               "top_message_contains"}


def load(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text())
    unknown = set(data) - TOP_KEYS
    assert not unknown, f"{path.name}: unknown keys {sorted(unknown)}"
    unknown = set(data.get("expect") or {}) - EXPECT_KEYS
    assert not unknown, f"{path.name}: unknown expect keys {sorted(unknown)}"
    return data


def all_scenarios() -> list[Path]:
    return sorted(SCENARIOS.glob("*.yaml"))


class TlsRelay:
    """TLS termination in front of a plain gateway (as nginx or an ingress would do)."""

    def __init__(self, context: ssl.SSLContext, upstream_port: int) -> None:
        self.context, self.upstream_port = context, upstream_port
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self._closed = False
        threading.Thread(target=self._serve, daemon=True, name="tls-relay").start()

    def url(self, host: str = "localhost") -> str:
        return f"https://{host}:{self.port}"

    def _serve(self) -> None:
        while not self._closed:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def _handle(self, conn: socket.socket) -> None:
        try:
            tls = self.context.wrap_socket(conn, server_side=True)
            up = socket.create_connection(("127.0.0.1", self.upstream_port), timeout=30)
        except (OSError, ssl.SSLError):
            conn.close()
            return
        def pipe(src: socket.socket, dst: socket.socket) -> None:
            try:
                while data := src.recv(65536):
                    dst.sendall(data)
            except (OSError, ssl.SSLError):
                pass
            finally:
                for s in (src, dst):
                    try:
                        s.shutdown(socket.SHUT_RDWR)
                    except OSError:
                        pass
        threading.Thread(target=pipe, args=(up, tls), daemon=True).start()
        pipe(tls, up)

    def close(self) -> None:
        self._closed = True
        self.sock.close()


@dataclass
class Setup:
    """A materialised scenario: where its files live and the environment to scan with."""

    env: dict[str, str]
    home: Path
    cwd: Path
    root: Path
    gateway_config: str | None
    values: dict[str, str] = field(default_factory=dict)


def substitute(obj: Any, values: dict[str, str]) -> Any:
    if isinstance(obj, str):
        out = obj
        for key, value in values.items():
            out = out.replace("{" + key + "}", value)
        return out
    if isinstance(obj, dict):
        return {substitute(k, values): substitute(v, values) for k, v in obj.items()}
    if isinstance(obj, list):
        return [substitute(v, values) for v in obj]
    return obj


def base_env(tmp: Path) -> dict[str, str]:
    """A clean environment: no proxy or client variables leak in from the test runner."""
    path = os.environ.get("PATH", "/usr/bin:/bin")
    if CLAUDE.exists():
        path = f"{CLAUDE.parent}:{path}"
    return {"PATH": path, "HOME": str(tmp / "home"), "LANG": "C.UTF-8"}


def materialise(data: dict[str, Any], tmp: Path, values: dict[str, str]) -> Setup:
    home, cwd, root = tmp / "home", tmp / "project", tmp / "root"
    for d in (home, cwd, root):
        d.mkdir(parents=True, exist_ok=True)
    values = {**values, "home": str(home), "cwd": str(cwd), "root": str(root), "tmp": str(tmp)}
    data = substitute(data, values)
    env = base_env(tmp)
    env.update({k: str(v) for k, v in (data.get("env") or {}).items()})
    for rel, content in (data.get("files") or {}).items():
        base, _, rest = rel.partition("/")
        target = {"home": home, "cwd": cwd, "root": root}[base] / rest
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, (dict, list)):
            target.write_text(json.dumps(content, indent=2))
        else:
            target.write_text(str(content))
    gateway_config = None
    if data.get("gateway_config") is not None:
        gw = tmp / "litellm.yaml"
        content = data["gateway_config"]
        gw.write_text(content if isinstance(content, str) else yaml.safe_dump(content))
        gateway_config = str(gw)
    return Setup(env=env, home=home, cwd=cwd, root=root, gateway_config=gateway_config,
                 values=values)


# A scenario with `options: {isolated_network: true}` runs in a fresh network namespace
# (`unshare -n`: only a down loopback, no route anywhere, so the system resolver cannot be
# reached and answers EAI_AGAIN, as behind a dead VPN). Nothing leaves the machine.
UNSHARE = ["unshare", "--net"]


def isolated(options: dict[str, Any]) -> list[str]:
    """The command prefix a scenario's scan and client run under: `dns: sinkhole` adds a
    loopback DNS filter answering 0.0.0.0 for every name, in a fresh network and mount
    namespace (_dns_sinkhole.py); `isolated_network` only the fresh network namespace."""
    if options.get("dns") == "sinkhole":
        from _dns_sinkhole import PREFIX

        return PREFIX
    return UNSHARE if options.get("isolated_network") else []


def scan(setup: Setup, options: dict[str, Any]) -> dict[str, Any]:
    if isolated(options):
        return _scan_subprocess(setup, options)
    from gwdoctor.engine.model import Options
    from gwdoctor.engine.scan import ScanRequest, run_scan

    opts = Options(offline=bool(options.get("offline")),
                   no_inference=bool(options.get("no_inference")),
                   probe_timeout=float(options.get("timeout", 3.0)),
                   plugin={"gateway_config": setup.gateway_config,
                           "client_version": options.get("client_version")})
    request = ScanRequest(env=setup.env, home=setup.home, cwd=setup.cwd, root=setup.root,
                          options=opts, load_plugins=False)
    return run_scan(request).report


def _scan_subprocess(setup: Setup, options: dict[str, Any]) -> dict[str, Any]:
    import subprocess
    import sys

    args = [*isolated(options), sys.executable, "-m", "gwdoctor.engine.cli", "scan", "--format",
            "json", "--fail-on", "never", "--no-plugins", "--timeout",
            str(options.get("timeout", 3.0))]
    if setup.gateway_config:
        args += ["--gateway-config", setup.gateway_config]
    if options.get("client_version"):
        args += ["--client-version", str(options["client_version"])]
    out = subprocess.run(args, env=setup.env, cwd=setup.cwd, capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, f"scan failed ({out.returncode}): {out.stderr[-2000:]}"
    return json.loads(out.stdout)


PartFactory = Callable[[Any], dict[str, str]]
