"""The capture harness: run the pinned real client against a recording server, and ask gwdoctor
what it predicts for the same setup.

A ``Case`` is one setup (shell env, settings files, ``--model``) with the behaviour keys of
knowledge/client.yaml it shows (``shows``). ``capture()`` runs ``claude -p`` on it against
``probes/_recorder.Recorder`` (and a ``RecordingProxy`` when the case uses one) and keeps what
the client sent; ``predict()`` runs gwdoctor's own probes on the same setup, optionally with a
altered client behaviour (the provenance test alters knowledge and expects a mismatch).
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from gwdoctor.probes._recorder import Exchange, Recorder, RecordingProxy

REPO = Path(__file__).resolve().parents[2]
CLIENTS = {
    "2.1.332": REPO / ".lab/claude/node_modules/.bin/claude",
    "2.1.197": REPO / ".lab/claude-2.1.197/node_modules/.bin/claude",
}
VERSIONS = tuple(CLIENTS)
TOKEN = "sk-capture-token-5b1e"


@dataclass(frozen=True)
class Case:
    id: str
    shows: tuple[str, ...]
    env: Mapping[str, str] = field(default_factory=dict)
    model: str | None = None                       # claude -p --model <model>
    user_settings: Mapping[str, Any] | None = None
    proxy: bool = False                            # start a RecordingProxy ({proxy} in env)
    tls: str | None = None                         # the recorder speaks TLS with this PKI name
    versions: tuple[str, ...] = VERSIONS
    base_host: str = "127.0.0.1"                   # the host name in ANTHROPIC_BASE_URL
    provider: str | None = None                    # the recorder answers as Bedrock/Vertex
                                                   # ("/bedrock", "/vertex_ai/v1")


@dataclass
class Capture:
    case: Case
    version: str
    rc: int
    stdout: str
    stderr: str
    exchanges: list[Exchange]                      # what reached the recorder
    proxied: list[Exchange]                        # what went through the proxy
    values: dict[str, str]                         # {recorder}, {proxy}, {ca}, ... for predict()

    @property
    def messages(self) -> list[Exchange]:
        return [e for e in self.exchanges if e.method == "POST" and e.path.endswith("/v1/messages")]

    @property
    def sent_model(self) -> str | None:
        return self.messages[-1].model if self.messages else None


def _fill(value: str, values: Mapping[str, str]) -> str:
    for key, sub in values.items():
        value = value.replace("{" + key + "}", sub)
    return value


class Setup:
    """A temporary HOME and project folder with the case's settings files."""

    def __init__(self, case: Case, version: str, values: dict[str, str]) -> None:
        self.tmp = Path(tempfile.mkdtemp(prefix="gwdoctor-capture-"))
        self.home, self.cwd = self.tmp / "home", self.tmp / "project"
        self.home.mkdir()
        self.cwd.mkdir()
        self.values = {**values, "home": str(self.home), "tmp": str(self.tmp)}
        if case.user_settings is not None:
            (self.home / ".claude").mkdir()
            text = _fill(json.dumps(case.user_settings), self.values)
            (self.home / ".claude/settings.json").write_text(text)
        binary = CLIENTS[version]
        self.env = {"PATH": f"{binary.parent}:{os.environ.get('PATH', '/usr/bin:/bin')}",
                    "HOME": str(self.home), "LANG": "C.UTF-8",
                    "ANTHROPIC_BASE_URL": self.values["recorder"],
                    "ANTHROPIC_AUTH_TOKEN": TOKEN,
                    "CLAUDE_CODE_MAX_RETRIES": "0",
                    "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1"}
        for key, value in case.env.items():
            if value is None:
                self.env.pop(key, None)
            else:
                self.env[key] = _fill(value, self.values)

    def cleanup(self) -> None:
        import shutil

        shutil.rmtree(self.tmp, ignore_errors=True)


def _responder(case: Case) -> Any:
    """The provider fakes of the lab (tests/live/_provider_fake.py) answer in Bedrock's and
    Vertex's wire formats behind the case's path prefix, so the client completes normally."""
    if not case.provider:
        return None
    import sys

    live = str(Path(__file__).resolve().parents[1] / "live")
    if live not in sys.path:
        sys.path.insert(0, live)
    from _provider_fake import ProviderFake

    return ProviderFake(require_auth=False, prefix=case.provider.removesuffix("/v1")).respond


def capture(case: Case, version: str, pki: Any = None) -> Capture:
    """Run the real client on ``case`` and record what it sends."""
    binary = CLIENTS[version]
    assert binary.exists(), f"Claude Code {version} not installed at {binary}: run bash .ci/install"
    tls = pki.server_context("valid") if case.tls and pki is not None else None
    with Recorder(responder=_responder(case), tls=tls,
                  host="127.0.0.1") as rec, RecordingProxy() as proxy:
        url = (rec.url if case.base_host == "127.0.0.1"
               else rec.url.replace("127.0.0.1", case.base_host))
        values = {"recorder": url, "proxy": proxy.url, "recorder_port": str(rec.port)}
        if pki is not None:
            values["ca"] = str(pki.ca_pem)
        setup = Setup(case, version, values)
        try:
            args = [str(binary), "-p", "say hi"] + (["--model", case.model] if case.model else [])
            done = subprocess.run(args, env=setup.env, cwd=setup.cwd, stdin=subprocess.DEVNULL,
                                  capture_output=True, text=True, timeout=90)
        finally:
            setup.cleanup()
        return Capture(case, version, done.returncode, done.stdout, done.stderr,
                       list(rec.exchanges), list(proxy.exchanges), values)


LIVE_PROBES = ("client.version", "config.settings", "proxy.route", "dns.gateway", "connect.gateway",
               "gateway.http", "model.messages")


def predict_live(capture: Capture, *, behaviour: Mapping[str, Any] | None = None,
                 pki: Any = None, probes: tuple[str, ...] = LIVE_PROBES
                 ) -> tuple[dict[str, Any], list[Exchange]]:
    """gwdoctor's network probes run on the case against a fresh recorder: its facts, and
    the requests it sent (to compare with what the client sent)."""
    tls = pki.server_context("valid") if capture.case.tls and pki is not None else None
    with Recorder(tls=tls) as rec:
        url = rec.url if capture.case.base_host == "127.0.0.1" else \
            rec.url.replace("127.0.0.1", capture.case.base_host)
        copy = Capture(capture.case, capture.version, capture.rc, capture.stdout, capture.stderr,
                       [], [], {**capture.values, "recorder": url, "recorder_port": str(rec.port)})
        facts = predict(copy, behaviour=behaviour, probes=probes)
        return facts, list(rec.exchanges)


def predict(capture: Capture, *, behaviour: Mapping[str, Any] | None = None,
            probes: tuple[str, ...] = ("client.version", "config.settings", "proxy.route")
            ) -> dict[str, Any]:
    """gwdoctor's facts for the captured case (same env and files, same client on PATH).

    ``behaviour`` replaces the client behaviour gwdoctor would load from knowledge for the
    version (the provenance test alters it). A ``--model X`` case is predicted as the client
    reads it: the alias entry for an alias, ``ANTHROPIC_MODEL=X`` for anything else.
    """
    from gwdoctor.engine.collect import run_probes
    from gwdoctor.engine.model import Options
    from gwdoctor.engine.scan import ScanRequest, prepare

    case = capture.case
    values = dict(capture.values)
    setup = Setup(case, capture.version, values)
    try:
        env = dict(setup.env)
        if case.model and case.model.lower() not in ("opus", "sonnet", "haiku"):
            env["ANTHROPIC_MODEL"] = case.model
        options = Options(offline=False, probe_timeout=5.0)
        request = ScanRequest(env=env, home=setup.home, cwd=setup.cwd, root=Path("/nonexistent"),
                              options=options, load_plugins=False)
        registry, _ = prepare(request)
        wanted = set(probes)
        initial: dict[str, Any] = {}
        if behaviour is not None:
            wanted.discard("client.version")
            initial = {"client.version": capture.version, "client.version_source": "test",
                       "client.behaviour": dict(behaviour)}
        from gwdoctor.engine.registry import with_prerequisites

        chosen = with_prerequisites(registry.probes,
                                    [p for p in registry.probes if p.name in wanted])
        if behaviour is not None:  # the given behaviour replaces what the version probe would load
            chosen = [p for p in chosen if p.name != "client.version"]
        result = run_probes(chosen, registry.owner, env=env, options=options, budget=20.0,
                            initial_facts=initial, home=setup.home, cwd=setup.cwd,
                            root=Path("/nonexistent"))
        failed = [r for r in result.records if r.status in ("error", "timeout")]
        assert not failed, f"gwdoctor probes failed: {[r.as_dict() for r in failed]}"
        return dict(result.facts)
    finally:
        setup.cleanup()


def predicted_model(capture: Capture, facts: Mapping[str, Any]) -> str | None:
    """The model gwdoctor says this case sends."""
    requested = {e["role"]: e for e in facts.get("model.requested") or []}
    model = (capture.case.model or "").lower()
    role = model if model in ("opus", "sonnet", "haiku") else "main"
    entry = requested.get(role)
    return entry["sent"] if entry else None


def warm(get: Any, cases: list[Case]) -> None:
    """Run the cases' captures three at a time (each client run is ~0.5-1 s, mostly start-up)."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(3) as pool:
        list(pool.map(lambda cv: get(*cv), [(c, v) for c in cases for v in c.versions]))


_MONTHS = ("january", "february", "march", "april", "may", "june", "july", "august", "september",
           "october", "november", "december")


def retirement_said(capture: Capture) -> str | None:
    """The date in the client's "<Model> was retired on <Month D, YYYY>" warning, ISO-formatted."""
    import re

    match = re.search(r"was retired on ([A-Za-z]+) (\d{1,2}), (\d{4})", capture.stderr)
    if not match or match.group(1).lower() not in _MONTHS:
        return None
    month = _MONTHS.index(match.group(1).lower()) + 1
    return f"{match.group(3)}-{month:02d}-{int(match.group(2)):02d}"


def predicted_retirement(capture: Capture, facts: Mapping[str, Any]) -> str | None:
    requested = {e["role"]: e for e in facts.get("model.requested") or []}
    entry = requested.get("main")
    return entry.get("retired_on") if entry else None
