"""`gwdoctor generate` and `gwdoctor validate`: every generated setup validates clean, seeded
mistakes are caught, LiteLLM boots the generated config."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from click.testing import CliRunner
from gwdoctor.engine.cli import main
from gwdoctor.setup import generator as gen
from gwdoctor.setup._data import gateway_knowledge, gateway_profiles, providers, served_names
from gwdoctor.setup.validate import validate_files

GATEWAY_ENV = {"VERTEXAI_PROJECT": "my-proj", "LITELLM_MASTER_KEY": "sk-test-master-0001",
               "ANTHROPIC_API_KEY": "sk-ant-upstream"}
CA_PEM = ("-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUDummyDummyDummyDummyDummy\n"
          "-----END CERTIFICATE-----\n")


def _cases(ca: str) -> dict[str, tuple[str, dict[str, Any]]]:
    cases: dict[str, tuple[str, dict[str, Any]]] = {
        "litellm-vertex": ("litellm-vertex", {}),
        "litellm-vertex-deepseek-main": ("litellm-vertex", {"main_model": "deepseek-r1"}),
        "litellm-vertex-claude": ("litellm-vertex", {"claude_on_vertex": True}),
        "litellm-multi": ("litellm-multi", {}),
        "litellm-multi-eu-bedrock-first": ("litellm-multi", {"aws_region": "eu-west-1",
                                                             "primary": "bedrock"}),
        "proxy-external-ca": ("proxy", {"proxy_url": "http://proxy.corp:3128",
                                        "gateway_url": "https://gw.example.com", "ca": ca}),
        "proxy-internal": ("proxy", {"proxy_url": "http://proxy.corp:3128",
                                     "gateway_url": "http://litellm.internal:4000"}),
        "proxy-loopback-noauth": ("proxy", {"proxy_url": "proxy.corp:8080", "proxy_auth": False,
                                            "gateway_url": "http://127.0.0.1:4000"}),
        "bedrock": ("bedrock", {}),
        "bedrock-eu": ("bedrock", {"aws_region": "eu-central-1", "aws_profile": "dev"}),
        "vertex": ("vertex", {"project": "my-proj"}),
        "vertex-us-east5": ("vertex", {"project": "my-proj", "region": "us-east5"}),
    }
    for gid in gateway_profiles():
        cases[f"enterprise-{gid}"] = ("enterprise", {"gateway": gid})
    cases["enterprise-kong-header"] = ("enterprise", {"gateway": "kong", "auth_header": "apikey",
                                                      "base_url": "https://kong.corp/claude"})
    return cases


@pytest.fixture(scope="module")
def ca_file(tmp_path_factory: pytest.TempPathFactory) -> str:
    import trustme

    path = tmp_path_factory.mktemp("ca") / "corp-ca.pem"
    path.write_bytes(trustme.CA().cert_pem.bytes())
    return str(path)


def _write(tmp: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (tmp / name).write_text(text, encoding="utf-8")
    return tmp


def _validate(tmp: Path, **kw: Any) -> dict[str, Any]:
    gw = tmp / "config.yaml"
    settings = [str(tmp / "settings.json")] if (tmp / "settings.json").exists() else []
    return validate_files(gateway_config=str(gw) if gw.exists() else None, settings=settings,
                          shell_env={}, extra_env=kw.pop("extra_env", GATEWAY_ENV),
                          load_plugins=False, **kw).report


def _ids(report: dict[str, Any], at_least: str = "info") -> list[str]:
    order = ["info", "warning", "error", "critical"]
    return [f["rule_id"] for f in report["findings"]
            if order.index(f["severity"]) >= order.index(at_least)]


# --- generation -----------------------------------------------------------------------------

@pytest.mark.parametrize("name", sorted(_cases("/x/ca.pem")))
def test_generation_is_deterministic(name: str) -> None:
    kind, opts = _cases("/x/ca.pem")[name]
    first, second = gen.generate(kind, opts), gen.generate(kind, dict(opts))
    assert first == second
    assert list(first)[-3:] == ["settings.json", "env.sh", "README-setup.md"]
    assert gen.listing(first).count("==> ") == len(first)


@pytest.mark.parametrize("name", sorted(_cases("/x/ca.pem")))
def test_no_literal_secret_and_base_url_without_v1(name: str) -> None:
    kind, opts = _cases("/x/ca.pem")[name]
    files = gen.generate(kind, opts)
    env = json.loads(files["settings.json"])["env"]
    assert not env.get("ANTHROPIC_BASE_URL", "").rstrip("/").endswith("/v1")
    for var in ("ANTHROPIC_AUTH_TOKEN", "ANTHROPIC_API_KEY"):
        assert env.get(var, "<").startswith("<"), var
    assert "NODE_TLS_REJECT_UNAUTHORIZED" not in env
    assert "NODE_TLS_REJECT_UNAUTHORIZED=" not in files["env.sh"]
    if "config.yaml" in files:
        config = yaml.safe_load(files["config.yaml"])
        for item in config["model_list"]:
            for key, value in item["litellm_params"].items():
                if re.search("key|secret|token|password|project", key):
                    assert str(value).startswith("os.environ/"), (key, value)
        assert "${" not in files["config.yaml"]


@pytest.mark.parametrize("name", sorted(_cases("/x/ca.pem")))
def test_env_sh_is_valid_shell_and_runs_nothing(name: str, tmp_path: Path) -> None:
    import subprocess

    kind, opts = _cases("/x/ca.pem")[name]
    script = gen.generate(kind, opts)["env.sh"]
    assert subprocess.run(["bash", "-n"], input=script.encode(), check=False).returncode == 0
    # a placeholder's guard message is plain words: no command substitution inside "${X:?...}"
    for line in script.splitlines():
        if ":?" in line:
            assert not re.search(r"[`]|\$\(", line.split(":?", 1)[1]), line


def test_litellm_vertex_serves_the_eight_models_in_their_regions() -> None:
    config = yaml.safe_load(gen.generate("litellm-vertex", {})["config.yaml"])
    known = {m["model_id"]: m for m in providers()["vertex_models"]}
    by_name = {m["model_name"]: m["litellm_params"] for m in config["model_list"]}
    for model_id, name in served_names().items():
        params = by_name[name]
        assert params["model"] in known[model_id]["litellm_models"]
        assert params["vertex_location"] in known[model_id]["regions"]
        assert params["vertex_project"] == "os.environ/VERTEXAI_PROJECT"
    assert by_name["qwen3-coder-480b"]["vertex_location"] == "us-south1"
    assert by_name["deepseek-r1"]["vertex_location"] == "us-central1"
    assert by_name["gemini-2.5-pro"]["vertex_location"] == "global"
    # the client's own default ids are served too
    assert by_name["claude-opus-5-5"]["model"] == "vertex_ai/gemini-2.5-pro"
    assert by_name["claude-haiku-5-5"]["model"] == "vertex_ai/gemini-2.5-flash"
    assert config["general_settings"]["master_key"] == "os.environ/LITELLM_MASTER_KEY"
    assert "master_key" not in config["litellm_settings"]
    assert config["litellm_settings"]["drop_params"] is True


def test_litellm_vertex_client_settings_name_served_models() -> None:
    files = gen.generate("litellm-vertex", {"base_url": "http://gw.internal:4000/"})
    env = json.loads(files["settings.json"])["env"]
    served = {m["model_name"] for m in yaml.safe_load(files["config.yaml"])["model_list"]}
    assert env["ANTHROPIC_BASE_URL"] == "http://gw.internal:4000"
    for var in ("ANTHROPIC_MODEL", "ANTHROPIC_DEFAULT_OPUS_MODEL", "ANTHROPIC_DEFAULT_SONNET_MODEL",
                "ANTHROPIC_DEFAULT_HAIKU_MODEL"):
        assert env[var] in served
    assert "CLAUDE_CODE_MAX_OUTPUT_TOKENS" not in env  # Gemini allows 65535 > 32000


def test_output_tokens_lowered_for_a_small_model() -> None:
    env = json.loads(gen.generate("litellm-vertex",
                                  {"main_model": "deepseek-r1"})["settings.json"])["env"]
    assert env["CLAUDE_CODE_MAX_OUTPUT_TOKENS"] == "8000"  # DeepSeek R1 answers at most 8192


def test_claude_on_vertex_aliases() -> None:
    config = yaml.safe_load(gen.generate("litellm-vertex",
                                         {"claude_on_vertex": True})["config.yaml"])
    by_name = {m["model_name"]: m["litellm_params"] for m in config["model_list"]}
    assert by_name["claude-opus-5-5"]["model"] == "vertex_ai/claude-opus-5-5"
    assert by_name["claude-haiku-5-5"]["vertex_location"] == "us-east5"
    assert len(by_name) == 8 + 3


def test_litellm_multi_profiles_and_fallbacks() -> None:
    config = yaml.safe_load(gen.generate("litellm-multi",
                                         {"aws_region": "eu-west-1"})["config.yaml"])
    models = {m["model_name"]: m["litellm_params"] for m in config["model_list"]}
    # Sonnet 4.6, not the retired 4.5 (tests/test_generated_models.py); versionless ids.
    assert models["claude-sonnet-4-6"]["model"] == "anthropic/claude-sonnet-4-6"
    assert models["claude-sonnet-4-6-bedrock"]["model"] == "bedrock/eu.anthropic.claude-sonnet-4-6"
    assert (models["claude-haiku-4-5-20251001-vertex"]["model"]
            == "vertex_ai/claude-haiku-4-5@20251001")
    fallbacks = {k: v for item in config["litellm_settings"]["fallbacks"] for k, v in item.items()}
    assert fallbacks["claude-opus-4-5-20251101"] == ["claude-opus-4-5-20251101-bedrock",
                                                     "claude-opus-4-5-20251101-vertex"]
    assert all(t in models for targets in fallbacks.values() for t in targets)


def test_proxy_settings() -> None:
    files = gen.generate("proxy", {"proxy_url": "http://jane%40corp@proxy.corp:3128",
                                   "gateway_url": "http://litellm.internal:4000",
                                   "ca": "/etc/ssl/corp.pem"})
    env = json.loads(files["settings.json"])["env"]
    assert env["HTTPS_PROXY"] == env["https_proxy"] == "http://jane%40corp:PROXY_PASSWORD@proxy.corp:3128"
    assert env["NO_PROXY"] == "localhost,127.0.0.1,::1,litellm.internal"
    assert env["NODE_EXTRA_CA_CERTS"] == "/etc/ssl/corp.pem"
    external = json.loads(gen.generate("proxy", {"proxy_url": "http://proxy:3128",
                                                 "gateway_url": "https://gw.example.com"})["settings.json"])
    assert external["env"]["NO_PROXY"] == "localhost,127.0.0.1,::1"


@pytest.mark.parametrize("kind,opts,needle", [
    ("proxy", {"proxy_url": "socks5://p:1080", "gateway_url": "https://gw"}, "SOCKS"),
    ("proxy", {"proxy_url": "http://p:3128", "gateway_url": "https://gw", "ca": "certs/ca.pem"},
     "absolute"),
    ("litellm-vertex", {"base_url": "http://gw:4000/v1"}, "/v1"),
    ("litellm-vertex", {"main_model": "gpt-5"}, "--main-model"),
    ("enterprise", {"gateway": "nope"}, "--gateway"),
    ("vertex", {"region": "us-east-1"}, "GCP location"),
])
def test_impossible_options_are_refused(kind: str, opts: dict[str, Any], needle: str) -> None:
    with pytest.raises(gen.SetupError, match=re.escape(needle)):
        gen.generate(kind, opts)


def test_enterprise_table_agrees_with_gateway_knowledge() -> None:
    known = gateway_knowledge()
    for gid, prof in gateway_profiles().items():
        if gid not in known:
            continue  # vercel, ngrok: not (yet) in knowledge/gateways.yaml
        assert prof.credential_var == known[gid]["credential_variable"], gid
        assert (sorted(n for n, _ in prof.headers)
                == sorted(known[gid].get("required_headers") or [])), gid


def test_enterprise_headers() -> None:
    env = json.loads(gen.generate("enterprise", {"gateway": "portkey"})["settings.json"])["env"]
    assert env["ANTHROPIC_BASE_URL"] == "https://api.portkey.ai"
    assert env["ANTHROPIC_CUSTOM_HEADERS"].split("\n")[0].startswith("x-portkey-api-key: ")
    cf = json.loads(gen.generate("enterprise", {"gateway": "cloudflare"})["settings.json"])["env"]
    assert "ANTHROPIC_AUTH_TOKEN" not in cf and cf["ANTHROPIC_API_KEY"].startswith("<")
    vercel = gen.generate("enterprise", {"gateway": "vercel"})
    assert "ANTHROPIC_API_KEY" not in json.loads(vercel["settings.json"])["env"]
    assert "unset ANTHROPIC_API_KEY" in vercel["env.sh"]


def test_vertex_region_overrides() -> None:
    env = json.loads(gen.generate("vertex", {"project": "p1"})["settings.json"])["env"]
    assert env["CLOUD_ML_REGION"] == "global"
    assert env["VERTEX_REGION_CLAUDE_HAIKU_4_5"] == "us-east5"
    assert env["ANTHROPIC_DEFAULT_HAIKU_MODEL"] == "claude-haiku-4-5@20251001"
    bedrock = json.loads(gen.generate("bedrock",
                                      {"aws_region": "ap-southeast-2"})["settings.json"])["env"]
    assert bedrock["ANTHROPIC_MODEL"].startswith("apac.anthropic.claude-")


# --- validation -----------------------------------------------------------------------------

@pytest.mark.parametrize("name", sorted(_cases("/x/ca.pem")))
def test_every_generated_setup_validates_clean(name: str, tmp_path: Path, ca_file: str) -> None:
    kind, opts = _cases(ca_file)[name]
    report = _validate(_write(tmp_path, gen.generate(kind, opts)))
    assert _ids(report, "warning") == [], [f["message"] for f in report["findings"]]
    assert report["verdict"] == "healthy"


def _seed(tmp: Path, name: str, old: str, new: str) -> None:
    path = tmp / name
    text = path.read_text()
    assert old in text, (name, old)
    path.write_text(text.replace(old, new, 1))


@pytest.mark.parametrize("mistake,file,old,new,rule", [
    ("master_key_under_litellm_settings", "config.yaml",
     "litellm_settings:\n", "litellm_settings:\n  master_key: os.environ/LITELLM_MASTER_KEY\n",
     "CFG003"),
    ("shell_style_reference", "config.yaml",
     "vertex_project: os.environ/VERTEXAI_PROJECT", "vertex_project: ${VERTEXAI_PROJECT}",
     "CFG009"),
    ("unset_env_reference", "config.yaml",
     "vertex_project: os.environ/VERTEXAI_PROJECT", "vertex_project: os.environ/VERTEX_PROJ",
     "CFG004"),
    ("base_url_ends_in_v1", "settings.json",
     '"http://127.0.0.1:4000"', '"http://127.0.0.1:4000/v1"', "GWY003"),
    ("settings_not_json", "settings.json", '"env": {', '"env": {,', "CFG001"),
])
def test_seeded_mistakes_are_caught(mistake: str, file: str, old: str, new: str, rule: str,
                                    tmp_path: Path) -> None:
    _write(tmp_path, gen.generate("litellm-vertex", {}))
    if mistake == "master_key_under_litellm_settings":
        # moved, as two LiteLLM tutorials show it: only the misplaced key remains
        _seed(tmp_path, "config.yaml",
              "general_settings:\n  master_key: os.environ/LITELLM_MASTER_KEY\n", "")
    _seed(tmp_path, file, old, new)
    report = _validate(tmp_path)
    assert rule in _ids(report, "warning"), report["findings"]
    assert report["verdict"] in ("degraded", "broken")


def test_unset_reference_is_caught_when_the_gateway_host_lacks_it(tmp_path: Path) -> None:
    _write(tmp_path, gen.generate("litellm-vertex", {}))
    report = _validate(tmp_path, extra_env={"LITELLM_MASTER_KEY": "sk-test-master-0001"})
    [finding] = [f for f in report["findings"] if f["rule_id"] == "CFG004"]
    assert "VERTEXAI_PROJECT" in finding["message"]
    # the user's path, not the scratch copy
    assert str(tmp_path / "config.yaml") in finding["message"]


def test_proxy_without_loopback_bypass_is_caught(tmp_path: Path) -> None:
    _write(tmp_path, gen.generate("proxy", {"proxy_url": "http://proxy.corp:3128",
                                            "gateway_url": "http://127.0.0.1:4000"}))
    for var in ("NO_PROXY", "no_proxy"):
        _seed(tmp_path, "settings.json", f'"{var}": "localhost,127.0.0.1,::1"',
              f'"{var}": "localhost"')
    ids = _ids(_validate(tmp_path), "warning")
    assert "PRX002" in ids, ids


def test_machine_credentials_are_not_judged_in_isolation(tmp_path: Path) -> None:
    _write(tmp_path, gen.generate("vertex", {"project": "p1"}))
    report = _validate(tmp_path)
    skipped = {n["rule_id"]: n["reason"] for n in report["not_evaluated"]}
    assert "machine state" in skipped.get("PRV002", "machine state")
    assert "PRV002" not in _ids(report)


# --- command line ---------------------------------------------------------------------------

def test_cli_generate_writes_files_and_validate_passes(tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    runner = CliRunner()
    out = tmp_path / "out"
    result = runner.invoke(main, ["generate", "litellm-vertex", "--region", "global", "-o",
                                  str(out)])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == ["README-setup.md", "config.yaml", "env.sh",
                                                     "settings.json"]
    for var, value in GATEWAY_ENV.items():
        monkeypatch.setenv(var, value)
    result = runner.invoke(main, ["validate", "--gateway-config", str(out / "config.yaml"),
                                  "--settings", str(out / "settings.json"), "--format", "json",
                                  "--fail-on", "warning", "--no-plugins"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["verdict"] == "healthy"


def test_cli_validate_exit_code_on_a_mistake(tmp_path: Path) -> None:
    settings = tmp_path / "settings.json"
    settings.write_text(json.dumps({"env": {"ANTHROPIC_BASE_URL": "https://gw.corp/v1",
                                            "ANTHROPIC_AUTH_TOKEN": "sk-x"}}))
    result = CliRunner().invoke(main, ["validate", "--settings", str(settings), "--no-plugins"])
    assert result.exit_code == 1, result.output
    assert "GWY003" in result.output


def test_cli_generate_stdout_listing_and_usage_errors() -> None:
    runner = CliRunner()
    result = runner.invoke(main, ["generate", "proxy", "--proxy-url", "http://proxy:3128",
                                  "--gateway", "https://gw.example.com"])
    assert result.exit_code == 0, result.output
    assert "==> settings.json <==" in result.stdout and "==> config.yaml <==" not in result.stdout
    bad = runner.invoke(main, ["generate", "enterprise", "--gateway", "portkey", "--base-url",
                               "https://api.portkey.ai/v1"])
    assert bad.exit_code == 2 and "/v1" in bad.output
    assert runner.invoke(main, ["validate"]).exit_code == 2


# --- the real gateway -----------------------------------------------------------------------

@pytest.mark.live
@pytest.mark.parametrize("kind,opts", [("litellm-vertex", {}), ("litellm-multi", {})])
def test_real_litellm_boots_the_generated_config(kind: str, opts: dict[str, Any]) -> None:
    from live._litellm import start_litellm

    config = yaml.safe_load(gen.generate(kind, opts)["config.yaml"])
    names = [m["model_name"] for m in config["model_list"]]
    env = {**GATEWAY_ENV, "VERTEXAI_PROJECT": "gwdoctor-dummy-project", "AWS_REGION": "us-east-1"}
    with start_litellm(config, env=env) as gw:
        with httpx.Client(trust_env=False, timeout=10) as client:
            resp = client.get(f"{gw.url}/v1/models",
                              headers={"Authorization":
                                       f"Bearer {GATEWAY_ENV['LITELLM_MASTER_KEY']}"})
            assert resp.status_code == 200, resp.text
            served = sorted(item["id"] for item in resp.json()["data"])
            denied = client.get(f"{gw.url}/v1/models", headers={"Authorization": "Bearer sk-wrong"})
        assert served == sorted(names), gw.log[-2000:]
        assert denied.status_code in (400, 401)  # no DB: LiteLLM answers 400 "No connected db."


def test_cli_choices_match_the_generator() -> None:
    from gwdoctor.setup.commands import generate

    kind = next(p for p in generate.params if p.name == "kind")
    assert list(kind.type.choices) == list(gen.KINDS)  # type: ignore[attr-defined]
    gateway = next(p for p in generate.params if p.name == "gateway")
    assert "|".join(gen.gateways()) in str(gateway.help)


def test_validate_report_names_no_scratch_path(tmp_path: Path) -> None:
    """A project layer that sets a proxy in an untrusted workspace: the report speaks of the
    user's file or the layer, never of validate's scratch copy (gwdoctor-validate-*)."""
    project = tmp_path / "project-settings.json"
    project.write_text(json.dumps({"env": {"HTTPS_PROXY": "http://proxy.corp.example:3128",
                                           "ANTHROPIC_BASE_URL": "https://gw.corp.example"}}))
    report = validate_files(gateway_config=None, settings=[f"project={project}"], shell_env={},
                            extra_env={}, load_plugins=False).report
    text = json.dumps(report)
    assert "gwdoctor-validate-" not in text
    assert str(project) in text
