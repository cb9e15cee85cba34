"""`gwdoctor generate bedrock|vertex --base-url`: the gateway variant validates clean, and the real
LiteLLM boots its config; the Bedrock one carries `claude -p` 2.1.332 end to end to a fake
Bedrock."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import httpx
import pytest
import yaml
from gwdoctor.setup import generator as gen
from gwdoctor.setup.validate import validate_files

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests"))
sys.path.insert(0, str(REPO / "tests/live"))

CLAUDE = REPO / ".lab/claude/node_modules/.bin/claude"
GWDOCTOR = Path(sys.executable).parent / "gwdoctor"
MASTER = "sk-gwdoctor-generated-0042"
GATEWAY_ENV = {"LITELLM_MASTER_KEY": MASTER, "AWS_ACCESS_KEY_ID": "AKIAIOSFODNN7EXAMPLE",
               "AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
               "VERTEXAI_PROJECT": "acme-claude-prod",
               "VERTEXAI_CREDENTIALS": "/nonexistent/sa.json"}


@pytest.mark.parametrize(("kind", "opts"), [
    ("bedrock", {"base_url": "http://litellm.internal:4000"}),
    ("bedrock", {"base_url": "http://litellm.internal:4000/bedrock", "aws_region": "eu-west-1"}),
    ("vertex", {"base_url": "https://llm.corp.example/vertex_ai/v1",
                "project": "acme-claude-prod"}),
])
def test_gateway_variant_shape_and_offline_validation(kind: str, opts: dict,
                                                      tmp_path: Path) -> None:
    files = gen.generate(kind, opts)
    env = json.loads(files["settings.json"])["env"]
    skip = "CLAUDE_CODE_SKIP_BEDROCK_AUTH" if kind == "bedrock" else "CLAUDE_CODE_SKIP_VERTEX_AUTH"
    var = "ANTHROPIC_BEDROCK_BASE_URL" if kind == "bedrock" else "ANTHROPIC_VERTEX_BASE_URL"
    assert env[skip] == "1" and env[var].endswith("/bedrock" if kind == "bedrock"
                                                  else "/vertex_ai/v1")
    assert (env[var].count("/bedrock") <= 1
            and env[var].count("/vertex_ai") <= 1)  # a suffix given is not doubled
    config = yaml.safe_load(files["config.yaml"])
    if kind == "bedrock":
        served = {m["model_name"] for m in config["model_list"]}
        pinned = {env[k] for k in env if k.startswith("ANTHROPIC_") and k.endswith("MODEL")}
        assert pinned <= served  # every id the client sends has a pass-through model_list entry
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    report = validate_files(gateway_config=str(tmp_path / "config.yaml"),
                            settings=[str(tmp_path / "settings.json")],
                            shell_env={}, extra_env=GATEWAY_ENV, load_plugins=False).report
    errors = [f["rule_id"] for f in report["findings"] if f["severity"] in ("error", "critical")]
    assert errors == [], report["findings"]


def test_gateway_variant_refuses_a_v1_base_url() -> None:
    with pytest.raises(gen.SetupError, match="/v1"):
        gen.generate("bedrock", {"base_url": "http://gw:4000/v1"})


@pytest.mark.live
@pytest.mark.client
def test_generated_bedrock_gateway_boots_and_carries_the_client() -> None:
    """LiteLLM 1.108.7 boots the generated config; with the generated client settings (key and
    host filled in) `claude -p` answers through its /bedrock pass-through, signed for a fake
    Bedrock runtime (AWS_BEDROCK_RUNTIME_ENDPOINT, set only because the lab has no AWS), and
    gwdoctor calls the same setup healthy."""
    from live._litellm import start_litellm
    from live._provider_fake import ProviderFake

    files = gen.generate("bedrock", {"base_url": "http://placeholder:4000"})
    config = yaml.safe_load(files["config.yaml"])
    with ProviderFake() as fake, \
            start_litellm(config, env={**GATEWAY_ENV,
                                       "AWS_BEDROCK_RUNTIME_ENDPOINT": fake.url}) as gw:
        env = json.loads(files["settings.json"])["env"]
        env["ANTHROPIC_BEDROCK_BASE_URL"] = f"{gw.url}/bedrock"
        env["ANTHROPIC_CUSTOM_HEADERS"] = f"x-litellm-api-key: Bearer {MASTER}"
        with tempfile.TemporaryDirectory() as home:
            run_env = {"PATH": os.environ.get("PATH", ""), "HOME": home,
                       "CLAUDE_CODE_MAX_RETRIES": "0", **env}
            done = subprocess.run([str(CLAUDE), "-p", "say hi"], env=run_env, capture_output=True,
                                  text=True, timeout=120, stdin=subprocess.DEVNULL, cwd=home)
            assert "Hello from fake upstream." in done.stdout, (done.stdout + done.stderr
                                                               + gw.log[-2000:])
            scan = subprocess.run([str(GWDOCTOR), "scan", "--format", "json", "--timeout", "3"],
                                  env=run_env, capture_output=True, text=True, timeout=120,
                                  cwd=home)
            report = json.loads(scan.stdout)
            assert report["verdict"] == "healthy", report["findings"]
        signed = [e for e in fake.exchanges if e.method == "POST"]
        assert signed and all(e.headers["authorization"].startswith("AWS4-HMAC-SHA256 ")
                              for e in signed)


@pytest.mark.live
def test_generated_vertex_gateway_boots_and_serves_the_route() -> None:
    """LiteLLM boots the generated Vertex config and its /vertex_ai route asks for the LiteLLM key.
    (A request past it needs google-auth, which the lab's LiteLLM install lacks: not run here.)"""
    from live._litellm import start_litellm

    config = yaml.safe_load(gen.generate("vertex", {"base_url": "http://x:4000",
                                                    "project": "p"})["config.yaml"])
    with start_litellm(config, env=GATEWAY_ENV) as gw, \
            httpx.Client(trust_env=False, timeout=10) as client:
        path = ("/vertex_ai/v1/projects/p/locations/us-east5/publishers/anthropic/models/"
                "claude-opus-4-5@20251101:rawPredict")
        resp = client.post(gw.url + path, json={})
        assert resp.status_code == 401, resp.text
