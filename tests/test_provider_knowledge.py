"""knowledge/providers.yaml and variables.yaml: schema-valid, consistent, and what the rules and
probes use."""

from __future__ import annotations

import json
import re
from pathlib import Path

import jsonschema
import pytest
import yaml
from gwdoctor.engine.registry import builtin_rules
from gwdoctor.probes import _provider_ids
from gwdoctor.probes.provider import ids_facts
from gwdoctor.rules import _providers

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("name", ["providers", "variables"])
def test_file_validates_against_its_schema(name: str) -> None:
    schema = json.loads((ROOT / f"knowledge/schemas/{name}.schema.json").read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    data = yaml.safe_load((ROOT / f"knowledge/{name}.yaml").read_text())
    jsonschema.Draft202012Validator(schema).validate(data)


def test_the_eight_origin_models_are_listed_with_sane_limits() -> None:
    models = _provider_ids.providers()["vertex_models"]
    assert [m["name"] for m in models] == [
        "Gemini 2.5 Flash", "Gemini 2.5 Pro", "DeepSeek R1 (0528)", "Llama 3 405B", "Codestral",
        "Qwen3 Coder 480B", "Qwen3 235B", "gpt-oss-20b"]
    for m in models:
        assert m["max_output_tokens"] <= m["max_input_tokens"] or m["name"] == "Codestral"
        for region in m["regions"]:
            assert _provider_ids.gcp_region_valid(region), (m["name"], region)
        for string in m["litellm_models"]:
            assert _provider_ids.vertex_model_for(string) is m


def test_patterns_compile_and_match_their_examples() -> None:
    know = _provider_ids.providers()
    vertex, bedrock = know["claude_on_vertex"], know["claude_on_bedrock"]
    for example in vertex["examples"]:
        assert re.fullmatch(vertex["id_pattern"], example)
        assert not re.fullmatch(vertex["api_style_dated_pattern"], example)
    base, profile = bedrock["base_id_pattern"], bedrock["profile_id_pattern"]
    for example in bedrock["examples"]:
        assert re.fullmatch(base, example) or re.fullmatch(profile, example)
    assert {row["prefix"] for row in bedrock["region_prefixes"]} <= set(bedrock["valid_prefixes"])


@pytest.mark.parametrize("region, prefix", [
    ("us-east-1", "us"), ("us-gov-west-1", "us-gov"), ("eu-central-1", "eu"),
    ("ap-northeast-1", "apac"), ("ca-central-1", "global"), (None, "global")])
def test_bedrock_prefix_table(region: str | None, prefix: str) -> None:
    assert _provider_ids.bedrock_prefix_for_region(region) == prefix


def test_variables_cover_what_the_probes_treat_as_secret() -> None:
    known = _providers.variables()
    for name in ("ANTHROPIC_AUTH_TOKEN", "ANTHROPIC_API_KEY", "ANTHROPIC_CUSTOM_HEADERS",
                 "AWS_SECRET_ACCESS_KEY", "AWS_BEARER_TOKEN_BEDROCK", "CLAUDE_CODE_OAUTH_TOKEN",
                 "CLAUDE_CODE_CLIENT_KEY_PASSPHRASE"):
        assert known[name]["secret"] is True
    for name in ("ANTHROPIC_BASE_URL", "NODE_EXTRA_CA_CERTS", "CLAUDE_CODE_CLIENT_KEY",
                 "GOOGLE_APPLICATION_CREDENTIALS"):
        assert known[name]["secret"] is False
    assert all(known[v]["redact"] == "url"
               for v in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy"))


def test_provider_rules_read_the_knowledge() -> None:
    """PRV006/PRV007/PRV008 give answers that only the knowledge file holds (read probe-side by
    provider.ids and provider.cloud, worded by the rules)."""
    rules = {r.id: r for r in builtin_rules()}
    qwen = _provider_ids.vertex_model_for("vertex_ai/qwen/qwen3-235b-a22b-instruct-2507-maas")
    assert qwen is not None
    wrong = next(r for r in ("us-central1", "europe-west4") if r not in qwen["regions"])
    gw = {"gateway_config.path": "c.yaml", "gateway_config.models": [
        {"model_name": "q", "provider": "vertex_ai", "model": qwen["litellm_models"][0],
         "params": {"vertex_location": wrong}, "line": 1}]}
    [finding] = rules["PRV008"].evaluate({**gw, **ids_facts(gw)})
    assert f"vertex_location: {qwen['regions'][0]}" in finding.fixes[0].snippet
    bedrock = {
        "provider.mode": "bedrock",
        "provider.bedrock": {"region": "ap-south-1", "region_prefix": None, "base_url": None},
        "model.requested": [{"role": "main", "configured": "anthropic.claude-x-v1:0",
                             "sent": "anthropic.claude-x-v1:0",
                             "source": {"layer": "shell", "file": None}}]}
    [finding] = rules["PRV006"].evaluate({**bedrock, **ids_facts(bedrock)})
    assert "apac.anthropic.claude-x-v1:0" in finding.fixes[0].snippet
    assert _provider_ids.suggest_gcp_region("europe-west-4") == "europe-west4"
    [finding] = rules["PRV007"].evaluate({"provider.vertex": {"region_raw": "europe-west-4",
                                                              "region": "europe-west-4",
                                                              "region_valid": False,
                                                              "region_suggestion": "europe-west4"}})
    assert "CLOUD_ML_REGION=europe-west4" in finding.fixes[0].snippet
