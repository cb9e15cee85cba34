"""gateway_config.litellm against real, broken and hostile LiteLLM config files."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
from gwdoctor.engine import Options, ProbeContext, ProbeSkipped
from gwdoctor.probes.config import gateway_config_litellm

CANARY = "sk-literal-canary-51e0"

GOOD = f"""\
model_list:
  - model_name: claude-sonnet-4-5
    litellm_params:
      model: vertex_ai/claude-sonnet-4-5@20250929
      vertex_project: my-proj
      vertex_location: us-east5
      vertex_credentials: os.environ/VERTEX_CREDS
  - model_name: qwen3
    litellm_params:
      model: vertex_ai/qwen/qwen3-235b-a22b-instruct-2507-maas
      vertex_location: us-south1
      api_key: {CANARY}
  - model_name: gpt
    api_base: https://wrong.place
    litellm_params:
      model: openai/gpt-4o
      api_key: ${{OPENAI_API_KEY}}
litellm_settings:
  drop_params: true
  fallbacks: [{{"claude-sonnet-4-5": ["qwen3"]}}]
  model_group_settings:
    forward_client_headers_to_llm_api: [claude-sonnet-4-5]
  database_url: os.environ/DATABASE_URL
router_settings:
  model_group_alias: {{"claude-haiku-4-5": "qwen3", "old": {{"model": "gpt", "hidden": true}}}}
general_settings:
  master_key: os.environ/GW_MASTER
  forward_client_headers_to_llm_api: true
"""


def _run(tmp_path: Path, text: str | bytes | None,
         env: dict[str, str] | None = None) -> tuple[dict[str, Any], ProbeContext]:
    path = tmp_path / "config.yaml"
    if isinstance(text, bytes):
        path.write_bytes(text)
    elif text is not None:
        path.write_text(text)
    ctx = ProbeContext(env=env or {}, facts={}, cwd=tmp_path,
                       options=Options(plugin={"gateway_config": "config.yaml"}))
    facts = gateway_config_litellm.run(ctx)
    json.dumps(facts)
    return facts, ctx


def test_skipped_without_the_option() -> None:
    with pytest.raises(ProbeSkipped):
        gateway_config_litellm.run(ProbeContext(env={}, facts={}))


def test_reads_models_refs_master_key_and_routing(tmp_path: Path) -> None:
    facts, ctx = _run(tmp_path, GOOD, {"GW_MASTER": "sk-real-master", "VERTEX_CREDS": "/k.json"})
    assert facts["gateway_config.error"] is None
    assert facts["gateway_config.path"] == str(tmp_path / "config.yaml")
    models = facts["gateway_config.models"]
    assert [(m["model_name"], m["provider"], m["line"]) for m in models] == [
        ("claude-sonnet-4-5", "vertex_ai", 2), ("qwen3", "vertex_ai", 8), ("gpt", "openai", 13)]
    assert models[0]["params"]["vertex_credentials"] == "os.environ/VERTEX_CREDS"
    assert models[1]["params"]["vertex_location"] == "us-south1"
    assert models[1]["params"]["api_key"]["present"] is True
    refs = {(r["var"], r["shell_style"]): r for r in facts["gateway_config.env_refs"]}
    assert refs[("VERTEX_CREDS", False)]["set"] is True
    assert refs[("VERTEX_CREDS", False)]["key_path"] == \
        "model_list[0].litellm_params.vertex_credentials"
    assert (refs[("DATABASE_URL", False)]["set"] is False
            and refs[("DATABASE_URL", False)]["line"] == 23)
    assert refs[("OPENAI_API_KEY", True)]["line"] == 17
    mk = facts["gateway_config.master_key"]
    assert (mk["placement"] == "general_settings" and mk["env_ref"] == "GW_MASTER"
            and mk["line"] == 27)
    assert mk["publicly_known"] is False and mk["starts_with_sk"] is True
    assert ctx.vault.get("gateway_config.master_key") == "sk-real-master"
    misplaced = {(m["key"], m["found_in"], m["belongs_in"])
                 for m in facts["gateway_config.misplaced_keys"]}
    assert misplaced == {("database_url", "litellm_settings", "general_settings"),
                         ("api_base", "model_list[2]", "litellm_params")}
    assert facts["gateway_config.fallbacks"] == [{"section": "litellm_settings",
                                                 "kind": "fallbacks", "model": "claude-sonnet-4-5",
                                                 "to": ["qwen3"], "line": 20}]
    assert {a["alias"]: a["target"] for a in facts["gateway_config.aliases"]} == {
        "claude-haiku-4-5": "qwen3", "old": "gpt"}
    assert facts["gateway_config.header_forwarding"]["all_models"] is True
    assert facts["gateway_config.header_forwarding"]["model_groups"] == ["claude-sonnet-4-5"]
    text = json.dumps(facts)
    assert CANARY not in text and "sk-real-master" not in text


@pytest.mark.parametrize("text, env, expect", [
    ("litellm_settings:\n  master_key: os.environ/LITELLM_MASTER_KEY\n", {},
     {"placement": "litellm_settings", "line": 2, "env_fallback": False, "empty": True}),
    ("litellm_settings:\n  master_key: sk-1234\n", {"LITELLM_MASTER_KEY": "sk-env"},
     {"placement": "litellm_settings", "env_fallback": True, "publicly_known": True}),
    ("model_list: []\n", {"LITELLM_MASTER_KEY": "sk-1234"},
     {"placement": "env", "publicly_known": True}),
    ("model_list: []\n", {}, {"placement": "missing", "empty": True}),
    ("general_settings:\n  master_key: hunter2\n  dangerously_allow_unsafe_proxy: true\n", {},
     {"placement": "general_settings", "starts_with_sk": False, "allow_unsafe": True}),
    # LiteLLM 1.108's own name for the override, in the config and as a variable
    ("general_settings:\n  master_key: hunter2\n"
     "  dangerously_permit_weak_or_unset_master_key: true\n", {}, {"allow_unsafe": True}),
    ("general_settings:\n  master_key: hunter2\n",
     {"LITELLM_DANGEROUSLY_PERMIT_WEAK_OR_UNSET_MASTER_KEY": "True"}, {"allow_unsafe": True}),
    ("general_settings:\n  master_key: hunter2\n"
     "  dangerously_permit_weak_or_unset_master_key: false\n", {}, {"allow_unsafe": False}),
])
def test_master_key_placement(tmp_path: Path, text: str, env: dict[str, str],
                              expect: dict[str, Any]) -> None:
    facts, _ = _run(tmp_path, text, env)
    mk = facts["gateway_config.master_key"]
    assert {k: mk[k] for k in expect} == expect
    assert "hunter2" not in json.dumps(facts)


def test_unexpanded_references_and_the_documented_key_are_not_secrets(tmp_path: Path) -> None:
    """`master_key: ${LITELLM_MASTER_KEY}` is a literal LiteLLM never expands: findings must be
    able to name it (it was scrubbed to [redacted]); a `:-default` is a real key and is not."""
    _, ctx = _run(tmp_path, "general_settings:\n  master_key: ${LITELLM_MASTER_KEY}\n")
    assert ctx.vault.get("gateway_config.master_key") is None
    _, ctx = _run(tmp_path, "general_settings:\n  master_key: ${MK:-sk-default-9f8e7d}\n")
    assert ctx.vault.get("gateway_config.master_key") == "sk-default-9f8e7d"
    _, ctx = _run(tmp_path, "general_settings:\n  master_key: sk-1234\n")  # in LiteLLM's docs
    assert ctx.vault.get("gateway_config.master_key") is None


@pytest.mark.parametrize("text, line, words", [
    ("model_list:\n  - model_name: a\n\tlitellm_params: {}\n", 3, "cannot start any token"),
    ("model_list: [\n", 2, "expected"),
    ("- just\n- a list\n", 1, "not a mapping"),
    ("a: 1\n---\nb: 2\n", 2, "single document"),
    ("model_list: 5\n", 1, "must be a list"),
    ("model_list:\n  - model_name: x\n    litellm_params: {api_key: k}\n", 2, "needs model_name"),
])
def test_structural_errors_have_positions(tmp_path: Path, text: str, line: int, words: str) -> None:
    facts, _ = _run(tmp_path, text)
    err = facts["gateway_config.error"]
    assert err["line"] == line and words in err["message"]


def test_python_tags_are_refused_not_executed(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    text = f"model_list: !!python/object/apply:os.system ['touch {marker}']\n"
    facts, _ = _run(tmp_path, text)
    assert facts["gateway_config.error"]["line"] == 1
    assert "python/object" in facts["gateway_config.error"]["message"]
    assert not marker.exists()


@pytest.mark.parametrize("content, words", [
    (b"\x7fELF\x02\x01\x01\x00\x00\x00binary", "binary"),
    (b"model_list: \xff\xfe\n", "non-UTF-8"),
    (None, "unreadable"),
])
def test_unreadable_binary_and_missing_files(tmp_path: Path, content: bytes | None,
                                             words: str) -> None:
    facts, _ = _run(tmp_path, content)
    assert words in facts["gateway_config.error"]["message"]
    assert facts["gateway_config.models"] is None


def test_huge_file_is_refused_without_reading(tmp_path: Path) -> None:
    facts, _ = _run(tmp_path, "# " + "x" * (5 * 1024 * 1024))
    assert "larger than" in facts["gateway_config.error"]["message"]


def test_alias_bomb_and_deep_nesting_stay_bounded(tmp_path: Path) -> None:
    lines = ["a0: &a0 [os.environ/X, os.environ/X]"]
    lines += [f"a{i}: &a{i} [*a{i - 1}, *a{i - 1}, *a{i - 1}]" for i in range(1, 12)]
    start = time.monotonic()
    facts, _ = _run(tmp_path, "\n".join(lines) + "\n")
    assert time.monotonic() - start < 5
    # 2 x 3^11 nodes once expanded: past the node budget, a finding naming the alias and
    # its line (issue 13), no longer a silently cut walk.
    error = facts["gateway_config.error"]
    assert "expand to more than" in error["message"] and error["line"] is not None, error
    deep, _ = _run(tmp_path, "a: " + "[" * 5000 + "]" * 5000 + "\n")
    assert deep["gateway_config.error"] is not None or deep["gateway_config.models"] == []


@pytest.mark.parametrize(("upstream", "retired"), [
    ("anthropic/claude-sonnet-4-5-20250929", "2026-11-30"),
    ("bedrock/eu.anthropic.claude-sonnet-4-5-20250929-v1:0", "2026-11-30"),
    ("vertex_ai/claude-3-5-haiku@20241022", "2026-02-19"),
    ("vertex_ai/claude-sonnet-4-5@20250929", "2026-11-30"),
    ("anthropic/claude-sonnet-4-6", None),          # not retired
    ("anthropic/claude-sonnet-4-20250514", "2026-06-15"),
])
def test_upstream_ids_the_client_reports_retired_are_marked(tmp_path, upstream, retired) -> None:
    """gateway_config.litellm marks retired upstream ids with the same matching as the client's
    own models (probes/_effective.retired_on), in any provider spelling (MDL010 reads it)."""
    from gwdoctor.engine import ProbeContext
    from gwdoctor.engine.model import Options
    from gwdoctor.probes.client_behaviour import client_behaviour
    from gwdoctor.probes.config import gateway_config_litellm

    config = tmp_path / "config.yaml"
    config.write_text(f"model_list:\n  - model_name: m\n    litellm_params:\n"
                      f"      model: {upstream}\n")
    ctx = ProbeContext(env={}, facts={"client.behaviour": client_behaviour("2.1.332")},
                       home=tmp_path, cwd=tmp_path,
                       options=Options(plugin={"gateway_config": str(config)}))
    [entry] = gateway_config_litellm.run(ctx)["gateway_config.models"]
    assert entry["retired_on"] == retired


# (litellm_params, provider, provider_via, provider_hint): what LiteLLM 1.108.7's get_llm_provider
# finds for each entry (knowledge/litellm_routing.yaml); via None is an entry it drops at startup.
ROUTING = [
    ({"model": "gpt-4o-deployment", "api_base": "https://corp-gpt.openai.azure.com"},
     None, None, "azure"),                                       # BerriAI/litellm#11755
    ({"model": "my-deployment", "api_version": "2024-10-21"}, None, None, "azure"),
    ({"model": "gpt4/deployment"}, "gpt4", None, None),          # not a LiteLLM provider
    ({"model": "my-llama"}, None, None, None),
    ({"model": "azure/gpt-4o-deployment"}, "azure", "prefix", None),
    ({"model": "gpt-4o-deployment", "custom_llm_provider": "azure"},
     "azure", "custom_llm_provider", None),
    ({"model": "gpt-4o"}, "openai", "name", None),               # a name LiteLLM maps itself
    ({"model": "gemini-2.5-pro"}, "vertex_ai", "name", None),
    ({"model": "claude-opus-5-5"}, "anthropic", "pattern", None),  # its claude-* routing rule
    ({"model": "llama3-70b", "api_base": "https://api.groq.com/openai/v1"}, None, "api_base", None),
    ({"model": "llama3-70b", "api_base": "https://evil.example/api.groq.com/openai/v1"},
     None, None, None),                                          # host must match, not a substring
    ({"model": "os.environ/OPUS_MODEL"}, None, "environment", None),
]


@pytest.mark.parametrize(("params", "provider", "via", "hint"), ROUTING,
                         ids=[str(r[0]["model"]) + ("+" + "+".join(sorted(set(r[0]) - {"model"}))
                                                    if len(r[0]) > 1 else "") for r in ROUTING])
def test_how_litellm_finds_each_entrys_provider(tmp_path: Path, params: dict[str, str],
                                                provider: str | None, via: str | None,
                                                hint: str | None) -> None:
    lines = "".join(f"      {k}: {v}\n" for k, v in params.items())
    facts, _ = _run(tmp_path, f"model_list:\n  - model_name: m\n    litellm_params:\n{lines}")
    [entry] = facts["gateway_config.models"]
    assert (entry["provider"], entry["provider_via"], entry["provider_hint"]) == \
        (provider, via, hint)
