"""Fuzz cases for gwdoctor: hostile environments, settings files, ~/.claude.json and LiteLLM YAML,
and one runner.

Each case is a whole offline scan, in process (a subprocess per case would make 100,000
cases take a day), rendered in every report format. Counted, and all must stay 0:

* ``traceback``: run_scan or a renderer raised (the CLI would exit 3 with it);
* ``probe_error``: a probe raised (the engine turns it into an ENG001 finding, but it is a
  traceback inside gwdoctor all the same);
* ``non_json``: the JSON report or the facts bundle does not parse back;
* ``leak``: a secret planted in the case shows in an output.

Used by ``benchmarks/fuzz.py`` (100,000 cases, one command) and by
``tests/hardening/test_fuzz.py`` (a fixed seed and count in CI).
"""

from __future__ import annotations

import io
import json
import os
import random
import shutil
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SECRET = "sk-fuzz-SECRET-7c1e9a40b2d35f68"

VARIABLES = [
    "ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN", "ANTHROPIC_BASE_URL", "ANTHROPIC_BEDROCK_BASE_URL",
    "ANTHROPIC_CUSTOM_HEADERS", "ANTHROPIC_DEFAULT_HAIKU_MODEL", "ANTHROPIC_DEFAULT_OPUS_MODEL",
    "ANTHROPIC_DEFAULT_SONNET_MODEL", "ANTHROPIC_MODEL", "ANTHROPIC_SMALL_FAST_MODEL",
    "ANTHROPIC_VERTEX_PROJECT_ID", "ANTHROPIC_VERTEX_BASE_URL", "API_TIMEOUT_MS",
    "AWS_ACCESS_KEY_ID", "AWS_BEARER_TOKEN_BEDROCK", "AWS_CONFIG_FILE", "AWS_PROFILE", "AWS_REGION",
    "AWS_SECRET_ACCESS_KEY", "AWS_SHARED_CREDENTIALS_FILE", "CLAUDE_CODE_CERT_STORE",
    "CLAUDE_CODE_CLIENT_CERT", "CLAUDE_CODE_CLIENT_KEY", "CLAUDE_CODE_MAX_RETRIES",
    "CLAUDE_CODE_OAUTH_TOKEN", "CLAUDE_CODE_USE_BEDROCK", "CLAUDE_CODE_USE_VERTEX",
    "CLAUDE_CODE_USE_FOUNDRY", "CLAUDE_CONFIG_DIR", "CLOUD_ML_REGION",
    "GOOGLE_APPLICATION_CREDENTIALS", "HTTPS_PROXY", "HTTP_PROXY", "https_proxy", "NO_PROXY",
    "no_proxy", "NODE_EXTRA_CA_CERTS", "NODE_OPTIONS", "NODE_TLS_REJECT_UNAUTHORIZED",
    "SSL_CERT_FILE", "SSL_CERT_DIR", "LITELLM_MASTER_KEY",
]
URL_VARS = {"HTTPS_PROXY", "HTTP_PROXY", "https_proxy", "ANTHROPIC_BASE_URL",
            "ANTHROPIC_BEDROCK_BASE_URL", "ANTHROPIC_VERTEX_BASE_URL"}
SECRET_VARS = {"ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN", "AWS_SECRET_ACCESS_KEY",
               "AWS_BEARER_TOKEN_BEDROCK", "CLAUDE_CODE_OAUTH_TOKEN"}


def _value(rng: random.Random, home: Path, var: str = "") -> str:
    """A hostile value for ``var``; SECRET appears only where gwdoctor must treat it as one
    (a credential variable, a proxy password, a custom header value)."""
    secret = SECRET if var in SECRET_VARS else "not-a-secret"
    kind = rng.randrange(24)
    if kind == 0:
        return ""
    if kind == 1:
        return rng.choice(["1", "0", "true", "yes", "nan", "inf", "-1", "1e309", "0x10", " "])
    if kind == 2:
        return "x" * rng.choice([300, 5000, 70000])
    if kind == 3:
        return "".join(chr(rng.randrange(1, 0x2FFF)) for _ in range(rng.randrange(1, 40)))
    if kind == 4:
        return "\udcff\udc80" + secret  # not UTF-8 (a surrogate escape), as os.environ can hold
    if kind == 5:
        return rng.choice(["/dev/zero", "/dev/null", str(home / "fifo"), str(home),
                           "/proc/self/environ", str(home / "missing.pem"), "~/x",
                           "relative/path"])
    if kind in (6, 7, 8):
        user = rng.choice(["", "bob", "b@b", "b#b"])
        password = rng.choice(["", "p", "p@ss#" + SECRET, SECRET, "a/b?c#d", "%zz", "%40%3A"])
        host = rng.choice(["proxy.corp", "127.0.0.1", "[::1]", "[::1", "h:99999", "", "xn--zz",
                           "a" * 300, "0.0.0.0", "gw.invalid", "localhost"])
        if var not in URL_VARS | SECRET_VARS:  # only where gwdoctor knows a URL holds secrets
            password = password.replace(SECRET, "not-a-secret")
        auth = f"{user}:{password}@" if user or password else ""
        scheme = rng.choice(["http://", "https://", "socks5://", "", "ftp://", "http:/", "HTTP://"])
        path = rng.choice(["", "/", "/v1", "/v1/", "/a b", "?q=1", "#frag", "/%zz"])
        return f"{scheme}{auth}{host}{path}"
    if kind == 9:
        return ",".join(rng.choice(["*", ".corp", "localhost", "127.0.0.1", "::1", "", " ",
                                    "10.0.0.0/8", "[::1]:80", "a" * 100])
                        for _ in range(rng.randrange(1, 6)))
    if kind == 10:
        value = SECRET if var in SECRET_VARS | {"ANTHROPIC_CUSTOM_HEADERS"} else "not-a-secret"
        return "\n".join(rng.choice([f"x-key: {value}", "bad header", ": novalue", "a:b:c",
                                     "Authorization: Bearer " + value, "\r\n"]) for _ in range(3))
    if kind == 11:
        return secret + rng.choice(["", " ", "\n", "\t"])
    if kind == 12:
        return rng.choice(["claude-sonnet-4-5", "opus", "haiku[1m]", "sonnet[1m]", "anthropic/x",
                           "us.anthropic.claude-3", "../../etc", "model" * 100])
    if kind == 13:
        return (str(rng.choice([0, 1, -5, 2**63, 3.5, 10**400])) if rng.random() < 0.9
                else "1" * 5000)
    return "".join(rng.choice("abcXYZ019-_./:@%#?=& ") for _ in range(rng.randrange(0, 60)))


def _json_text(rng: random.Random, home: Path) -> str:
    kind = rng.randrange(10)
    if kind == 0:
        return "{" * rng.choice([10, 100, 5000]) + "}" * rng.choice([0, 10, 5000])
    if kind == 1:
        return "[" * 100000 + "]" * 100000
    if kind == 2:
        return rng.choice(["", " ", "null", "[]", "1", '"x"', "NaN", '{"env": NaN}', "\ufeff{}",
                           '{"env": {"A": 1}}', '{"env": []}', '{"apiKeyHelper": 5}', "{,}"])
    data: dict[str, Any] = {}
    if rng.random() < 0.7:
        names = [rng.choice(VARIABLES) for _ in range(rng.randrange(0, 6))]
        data["env"] = {name: _value(rng, home, name) for name in names}
    if rng.random() < 0.2:
        data["apiKeyHelper"] = rng.choice(["echo " + SECRET, "exit 3", "printf 'a\\nb'", "true",
                                           "cat /dev/zero | head -c 100000", "echo $'\\x1b[31m'x"])
    if rng.random() < 0.2:
        data["model"] = _value(rng, home)
    if rng.random() < 0.2:
        data["projects"] = {str(home): {"hasTrustDialogAccepted":
                                        rng.choice([True, "yes", None, 1])}}
    if rng.random() < 0.1:
        data[_value(rng, home)] = [_value(rng, home) for _ in range(3)]
    return json.dumps(data)


_YAML = [
    "key: &r [*r]\n",
    "a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
    "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
    "d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
    "e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\n"
    "f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\n"
    "model_list: [{model_name: m, litellm_params: {model: *f}}]\n",
    "!!python/object:os.system {}\n",
    "model_list: 5\n",
    "model_list: [null, 1, [], {model_name: {}}, {litellm_params: []}]\n",
    "general_settings: {master_key: sk-1234}\nmodel_list: []\n",
    "general_settings: {master_key: ${MK:-" + SECRET + "}}\n",
    "litellm_settings: {fallbacks: [{a: [b, c]}, 5, null]}\n"
    "router_settings: {model_group_alias: [1]}\n",
    "- just\n- a\n- list\n",
    "a: " + "[" * 3000 + "]" * 3000 + "\n",
    "\0\0\0",
    "{" + ", ".join(f"k{i}: v" for i in range(2000)) + "}\n",
    "model_list:\n  - model_name: claude-sonnet-4-5\n    litellm_params:\n"
    "      model: anthropic/x\n      api_key: " + SECRET + "\n",
    "? [a, b]\n: c\n",
    "x: !!binary AAAA\ny: 2001-01-01\nz: 1e1000\n",
]


@dataclass
class Case:
    env: dict[str, str]
    files: dict[str, str | None]  # relative path -> text (None: a FIFO)
    gateway_yaml: str | None


def make_case(rng: random.Random, home: Path) -> Case:
    env = {"HOME": str(home), "PATH": str(home / "bin")}
    for _ in range(rng.randrange(0, 9)):
        name = rng.choice(VARIABLES)
        env[name] = _value(rng, home, name)
    files: dict[str, str | None] = {}
    for name in (".claude/settings.json", ".claude.json", "work/.claude/settings.json",
                 "work/.claude/settings.local.json", ".aws/config", ".aws/credentials",
                 ".config/gcloud/application_default_credentials.json"):
        roll = rng.random()
        if roll < 0.25:
            files[name] = _json_text(rng, home) if name.endswith(".json") else \
                "[default]\nregion=" + _value(rng, home) + "\n[profile x\nsso_session=s"
        elif roll < 0.28:
            files[name] = None
    yaml_text = rng.choice(_YAML) if rng.random() < 0.3 else None
    return Case(env=env, files=files, gateway_yaml=yaml_text)


@dataclass
class Tally:
    cases: int = 0
    traceback: int = 0
    probe_error: int = 0
    non_json: int = 0
    leak: int = 0
    seconds: float = 0.0
    examples: list[str] = field(default_factory=list)

    def bad(self) -> int:
        return self.traceback + self.probe_error + self.non_json + self.leak

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if k != "examples"} | {
            "examples": self.examples[:5]}


def _place(case: Case, home: Path) -> Path:
    if home.exists():
        shutil.rmtree(home)
    (home / "bin").mkdir(parents=True)
    (home / "work").mkdir()
    os.mkfifo(home / "fifo")
    for name, text in case.files.items():
        path = home / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if text is None:
            os.mkfifo(path)
        else:
            path.write_text(text, encoding="utf-8", errors="surrogateescape")
    if case.gateway_yaml is not None:
        (home / "litellm.yaml").write_text(case.gateway_yaml)
    return home / "work"


def run_case(case: Case, home: Path, prepared: Any, tally: Tally, render_all: bool = True) -> None:
    from gwdoctor.engine.formats import render_junit, render_markdown, render_sarif
    from gwdoctor.engine.model import Options
    from gwdoctor.engine.render_text import render_text
    from gwdoctor.engine.report import dumps
    from gwdoctor.engine.scan import ScanRequest, run_scan

    tally.cases += 1
    cwd = _place(case, home)
    gateway = str(home / "litellm.yaml") if case.gateway_yaml else None
    options = Options(offline=True, no_inference=True, probe_timeout=1.0,
                      plugin={"gateway_config": gateway, "client_version": "2.1.332"})
    try:
        outcome = run_scan(ScanRequest(env=case.env, home=home, cwd=cwd, root=home, options=options,
                                       load_plugins=False), prepared)
        outputs = ["", dumps(outcome.report), dumps(outcome.bundle), "", "", ""]
        if render_all:  # the other four formats cost half a case (rich): every Nth case
            buf = io.StringIO()
            render_text(outcome.report, buf, plain=True, verbose=True)
            outputs[0] = buf.getvalue()
            outputs[3:] = [render_markdown(outcome.report),
                           render_sarif(outcome.report, prepared[0].rules),
                           render_junit(outcome.report, prepared[0].rules, "error")]
    except Exception:  # noqa: BLE001  what the fuzzer is here to count
        tally.traceback += 1
        tally.examples.append(traceback.format_exc()[-600:])
        return
    for text in outputs[1:3]:
        try:
            json.loads(text)
        except ValueError:
            tally.non_json += 1
            tally.examples.append("non-JSON output")
    errors = [p for p in outcome.report.get("probes", []) if p.get("status") == "error"]
    if errors:
        tally.probe_error += 1
        tally.examples.append(f"probe error: {json.dumps(errors)[:500]}")
    for name, text in zip(("text", "json", "facts", "markdown", "sarif", "junit"), outputs):
        at = text.lower().find(SECRET.lower())
        if at >= 0:
            tally.leak += 1
            tally.examples.append(f"secret leaked in {name}: ...{text[max(0, at - 150):at + 40]!r}"
                                  f" env={ {k: v[:80] for k, v in case.env.items()} }")
            break


def fuzz(cases: int, seed: int, workdir: Path, progress: Any = None,
         render_every: int = 1) -> Tally:
    """``cases`` scans from ``seed``; JSON and facts checked every time, the text, markdown,
    SARIF and JUnit renderings every ``render_every``-th case."""
    from gwdoctor.engine.scan import ScanRequest, prepare

    rng = random.Random(seed)
    prepared = prepare(ScanRequest(env={}, load_plugins=False))
    tally = Tally()
    start = time.monotonic()
    home = workdir / "home"
    for i in range(cases):
        run_case(make_case(rng, home), home, prepared, tally, render_all=i % render_every == 0)
        if progress and (i + 1) % 1000 == 0:
            progress(i + 1, tally)
    tally.seconds = round(time.monotonic() - start, 1)
    return tally
