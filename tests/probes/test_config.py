"""Config probes: settings layers and precedence, effective env, gateway target, credentials,
models, client version."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from _box import CANARY, CLAUDE, Box
from gwdoctor.engine import Options, ProbeContext
from gwdoctor.probes.config import client_version, parse_version_output


def test_precedence_shell_user_project_local_managed_dropins(box: Box) -> None:
    box.write("user", {"env": {"V": "user", "U": "user"}})
    box.write("project", {"env": {"V": "project"}})
    box.write("local", {"env": {"V": "local", "L": "local"}})
    box.write("managed", {"env": {"V": "managed"}})
    box.write("20-b.json", {"env": {"V": "dropin-b"}})
    box.write("10-a.json", {"env": {"V": "dropin-a", "A": "a"}})
    facts, ctx = box.run({"V": "shell", "S": "shell"})
    env = facts["config.env"]
    assert env["V"]["value"] == "dropin-b"
    assert env["V"]["source"]["file"].endswith("managed-settings.d/20-b.json")
    assert [o["value"] for o in env["V"]["overridden"]] == [
        "shell", "user", "project", "local", "managed", "dropin-a"]
    assert env["U"]["source"]["layer"] == "user" and env["L"]["source"]["layer"] == "local"
    assert env["A"]["value"] == "a"
    assert "S" not in env  # the client does not read S; only settings-named or known variables
    assert ctx.vault.get("env.V") == "dropin-b"
    layers = [f["layer"] for f in facts["config.settings_files"]]
    assert layers == ["user", "project", "local", "managed", "managed", "managed"]


def test_claude_config_dir_replaces_dot_claude(box: Box, tmp_path: Path) -> None:
    other = tmp_path / "cfg"
    other.mkdir()
    (other / "settings.json").write_text(
        json.dumps({"env": {"ANTHROPIC_BASE_URL": "http://gw:4000"}}))
    box.write("user", {"env": {"ANTHROPIC_BASE_URL": "http://ignored:1"}})
    facts, _ = box.run({"CLAUDE_CONFIG_DIR": str(other)})
    assert facts["gateway.base_url"] == "http://gw:4000"
    assert facts["config.settings_files"][0]["path"] == str(other / "settings.json")


def test_invalid_json_is_reported_with_position_and_skipped_whole(box: Box) -> None:
    box.write("user", '{\n  "env": {\n    "ANTHROPIC_BASE_URL": "http://gw:4000",\n  }\n}')
    facts, _ = box.run({"ANTHROPIC_BASE_URL": "http://shell:1"})
    [bad] = facts["config.invalid_settings"]
    assert bad["layer"] == "user" and bad["line"] == 4 and bad["column"] == 3
    assert facts["gateway.base_url"] == "http://shell:1"
    assert facts["config.settings_files"][0]["valid"] is False


@pytest.mark.parametrize("content, words", [
    ({"env": ["A=1"]}, "'env' must be an object"),
    ({"env": {"CLAUDE_CODE_MAX_RETRIES": 0}}, "must be a string"),
    ({"model": 5}, "'model' must be a string"),
    ([1, 2], "not an object"),
    ('{"env": {"X": NaN}}', "not valid JSON"),
    ("", "empty file"),
    (b"\xff\xfe{}", "not UTF-8"),
])
def test_wrong_types_and_garbage_make_the_file_invalid(box: Box, content: Any, words: str) -> None:
    path = box.home / ".claude/settings.json"
    path.parent.mkdir(parents=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content if isinstance(content, str) else json.dumps(content))
    facts, _ = box.run()
    [bad] = facts["config.invalid_settings"]
    assert words in bad["message"]


def test_file_over_two_mib_is_rejected(box: Box) -> None:
    box.write("project", json.dumps({"env": {"A": "x" * (2 * 1024 * 1024)}}))
    facts, _ = box.run()
    [bad] = facts["config.invalid_settings"]
    assert "2MiB" in bad["message"] and "A" not in facts["config.env"]


def test_empty_value_does_not_unset_except_provider_switches(box: Box) -> None:
    # Older clients (anthropics/claude-code#22004): "" in a settings env block leaves the shell
    # value.
    box.write("user", {"env": {"HTTPS_PROXY": "", "CLAUDE_CODE_USE_VERTEX": "", "NEW_EMPTY": ""}})
    facts, _ = box.run({"HTTPS_PROXY": "http://u:pw@proxy.corp:8080",
                        "CLAUDE_CODE_USE_VERTEX": "1"}, version="2.1.150")
    env = facts["config.env"]
    assert env["HTTPS_PROXY"]["value"] == "http://u:***@proxy.corp:8080"
    assert env["HTTPS_PROXY"]["source"]["layer"] == "shell"
    assert [e["var"] for e in facts["config.empty_overrides"]] == ["HTTPS_PROXY"]
    assert facts["config.empty_overrides"][0]["shell_value_present"] is True
    assert facts["provider.mode"] == "anthropic"
    assert env["NEW_EMPTY"]["value"] == ""


def test_empty_value_replaces_the_shell_value_on_2_1_332(box: Box) -> None:
    # Measured on 2.1.332 (scenario empty-proxy-in-settings-clears-it): "" in settings wins.
    box.write("user", {"env": {"HTTPS_PROXY": "", "ANTHROPIC_MODEL": ""}})
    facts, _ = box.run({"HTTPS_PROXY": "http://u:pw@proxy.corp:8080",
                        "ANTHROPIC_MODEL": "no-such-model"})
    env = facts["config.env"]
    assert env["HTTPS_PROXY"]["value"] == "" and env["HTTPS_PROXY"]["source"]["layer"] == "user"
    assert facts["config.empty_overrides"] == []
    assert "no-such-model" not in facts["model.distinct"]


def test_secrets_never_reach_facts_but_the_vault_has_them(box: Box) -> None:
    box.write("user", {"env": {"ANTHROPIC_AUTH_TOKEN": CANARY,
                               "ANTHROPIC_BASE_URL": f"https://u:{CANARY}@gw.corp"}})
    facts, ctx = box.run({"ANTHROPIC_API_KEY": CANARY + "k",
                          "HTTP_PROXY": f"http://me:{CANARY}@p:3128",
                          "ANTHROPIC_CUSTOM_HEADERS": f"X-Team: {CANARY}\nbad line\nX-Env: prod",
                          "MY_SERVICE_TOKEN": CANARY})
    text = json.dumps(facts)
    assert CANARY not in text
    assert facts["auth.token"]["present"] and facts["auth.token"]["length"] == len(CANARY)
    assert facts["auth.headers"] == ["authorization", "x-api-key"]
    assert facts["auth.custom_headers"] == {"present": True, "names": ["x-team", "x-env"],
                                            "invalid_lines": [2]}
    assert (facts["gateway.base_url"] == "https://u:***@gw.corp"
            and facts["gateway.host"] == "gw.corp")
    assert ctx.vault.get("auth.token") == CANARY and ctx.vault.get("auth.api_key") == CANARY + "k"
    assert ctx.vault.get("env.HTTP_PROXY") == f"http://me:{CANARY}@p:3128"
    assert "X-Team" in (ctx.vault.get("auth.custom_headers") or "")


@pytest.mark.parametrize("env, headers, cred", [
    ({"ANTHROPIC_AUTH_TOKEN": "t"}, ["authorization"], "ANTHROPIC_AUTH_TOKEN"),
    ({"ANTHROPIC_API_KEY": "k"}, ["x-api-key"], "ANTHROPIC_API_KEY"),
    ({"CLAUDE_CODE_OAUTH_TOKEN": "o"}, ["authorization"], "CLAUDE_CODE_OAUTH_TOKEN"),
    ({}, [], None),
    ({"ANTHROPIC_AUTH_TOKEN": "t", "CLAUDE_CODE_USE_BEDROCK": "true"}, [], "provider"),
])
def test_credential_choice(box: Box, env: dict[str, str], headers: list[str],
                           cred: str | None) -> None:
    facts, _ = box.run(env)
    assert facts["auth.headers"] == headers and facts["auth.credential_source"] == cred


@pytest.mark.parametrize("url, expect", [
    ("http://127.0.0.1:4000/", {"scheme": "http", "host": "127.0.0.1", "port": 4000, "path": "",
                                "url_error": None}),
    ("https://gw.corp/api/v1/", {"scheme": "https", "host": "gw.corp", "port": 443,
                                 "path": "/api/v1"}),
    ("gw.corp:4000", {"url_error": "scheme 'gw.corp' is not http or https"}),
    ("https://[::1", {"url_error": "cannot parse the URL: Invalid IPv6 URL"}),
])
def test_gateway_url_parts(box: Box, url: str, expect: dict[str, Any]) -> None:
    facts, _ = box.run({"ANTHROPIC_BASE_URL": url})
    assert facts["gateway.custom"] is True
    assert {k: facts[f"gateway.{k}"] for k in expect} == expect


def test_default_gateway_is_anthropic(box: Box) -> None:
    facts, _ = box.run()
    assert (facts["gateway.base_url"] == "https://api.anthropic.com"
            and facts["gateway.custom"] is False)
    assert facts["gateway.base_url_source"] is None


def _sent(facts: dict[str, Any]) -> dict[str, str]:
    return {r["role"]: r["sent"] for r in facts["model.requested"]}


def test_models_default_for_the_version(box: Box) -> None:
    facts, _ = box.run()
    assert _sent(facts) == {"main": "claude-opus-5-5", "opus": "claude-opus-5-5",
                            "sonnet": "claude-sonnet-5-5", "haiku": "claude-haiku-5-5",
                            "background": "claude-haiku-5-5"}
    assert facts["model.distinct"] == ["claude-haiku-5-5", "claude-opus-5-5", "claude-sonnet-5-5"]
    old, _ = box.run(version="2.1.100")
    assert _sent(old)["main"] == "claude-sonnet-4-5-20250929"


def test_model_precedence_aliases_and_remap(box: Box) -> None:
    box.write("user", {"model": "sonnet"})
    facts, _ = box.run({"ANTHROPIC_DEFAULT_SONNET_MODEL": "gw-sonnet",
                        "ANTHROPIC_DEFAULT_MODEL": "ignored"})
    assert _sent(facts)["main"] == "gw-sonnet"
    assert facts["model.requested"][0]["source"]["layer"] == "user"
    facts, _ = box.run({"ANTHROPIC_MODEL": "claude-opus-4-1",
                        "ANTHROPIC_SMALL_FAST_MODEL": "small"})
    main = facts["model.requested"][0]
    assert main["sent"] == "claude-opus-5-5" and main["remapped"] is True
    # Captured: ANTHROPIC_SMALL_FAST_MODEL does not change the haiku alias, only background work.
    assert _sent(facts)["haiku"] == "claude-haiku-5-5" and _sent(facts)["background"] == "small"
    facts, _ = box.run({"ANTHROPIC_MODEL": "claude-opus-4-1",
                        "CLAUDE_CODE_DISABLE_LEGACY_MODEL_REMAP": "1"})
    assert _sent(facts)["main"] == "claude-opus-4-1"


def test_default_model_applies_only_without_a_settings_model(box: Box) -> None:
    facts, _ = box.run({"ANTHROPIC_DEFAULT_MODEL": "gw-default"})
    assert _sent(facts)["main"] == "gw-default"


def test_provider_mode_and_its_source(box: Box) -> None:
    box.write("project", {"env": {"CLAUDE_CODE_USE_VERTEX": "1"}})
    facts, _ = box.run()
    assert (facts["provider.mode"] == "vertex"
            and facts["provider.mode_source"]["layer"] == "project")


# --- apiKeyHelper -------------------------------------------------------------------------------

def test_version_parser() -> None:
    assert parse_version_output("2.1.332 (Claude Code)\n") == "2.1.332"
    assert parse_version_output("1.0.93-beta.1 (Claude Code)") == "1.0.93"
    assert parse_version_output("command not found") is None


def _fake_claude(tmp_path: Path, output: str) -> Path:
    bindir = tmp_path / "bin"
    bindir.mkdir(exist_ok=True)
    fake = bindir / "claude"
    fake.write_text(f"#!/bin/sh\n[ \"$1\" = --version ] && echo '{output}'\n")
    fake.chmod(0o755)
    return bindir


def test_version_from_the_binary_on_path(tmp_path: Path) -> None:
    if CLAUDE.exists():
        ctx = ProbeContext(env={"PATH": "/usr/bin:/bin", "GWDOCTOR_CLAUDE": str(CLAUDE)}, facts={})
        facts = client_version.run(ctx)
        assert facts["client.version_source"] == "claude --version"
        assert facts["client.version"].count(".") == 2
    # Always also through PATH with a stand-in binary, so the parser path is covered without the
    # lab.
    bindir = _fake_claude(tmp_path, "2.1.197 (Claude Code)")
    facts = client_version.run(ProbeContext(env={"PATH": f"{bindir}:{os.defpath}"}, facts={}))
    assert (facts["client.version"] == "2.1.197"
            and facts["client.version_source"] == "claude --version")
    # Captured (tests/capture/test_trust.py): 2.1.197 already applies a settings-file extra CA.
    assert facts["client.behaviour"]["extra_ca_from_settings_env"] is True


def test_version_option_wins_and_assumed_is_the_fallback(tmp_path: Path) -> None:
    bindir = _fake_claude(tmp_path, "2.1.197 (Claude Code)")
    facts = client_version.run(ProbeContext(env={"PATH": str(bindir)}, facts={},
                                            options=Options(plugin={"client_version": "2.1.38"})))
    assert (facts["client.version"], facts["client.version_source"]) == ("2.1.38", "option")
    facts = client_version.run(ProbeContext(env={"PATH": str(tmp_path / "nowhere")}, facts={}))
    assert facts["client.version_source"] == "assumed" and facts["client.version"] == "2.1.332"
    (tmp_path / "other").mkdir()
    broken = _fake_claude(tmp_path / "other", "garbage")
    facts = client_version.run(ProbeContext(env={"PATH": str(broken)}, facts={}))
    assert facts["client.version_source"] == "assumed"


@pytest.mark.parametrize("url, shown", [
    ("http://user:pw@proxy:3128", "http://user:***@proxy:3128"),
    ("http://user:p@ss@proxy:3128", "http://user:***@proxy:3128"),
    ("http://user:pa/ss@proxy:3128", "http://user:***@proxy:3128"),
    ("user:pw@proxy:3128", "user:***@proxy:3128"),
    ("http://user@proxy:3128", "http://user@proxy:3128"),
    # an '@' after the authority is read as a password cut short by an unencoded '/'
    ("http://proxy:3128/path@x", "http://***@x"),
])
def test_proxy_passwords_are_redacted(url: str, shown: str) -> None:
    from gwdoctor.probes._effective import redact_url

    assert redact_url(url) == shown


# --- review findings: secrets in messages, helper stderr, helper children -------------------------

@pytest.mark.parametrize("value, kind", [
    (["CANARY-env-list-4e1d"], "list"), ({"t": "CANARY-env-obj-4e1d"}, "object"),
    (4155550123987, "number"), (True, "boolean"), (None, "null"),
])
def test_wrong_type_env_value_is_named_by_type_not_echoed(box: Box, value: Any, kind: str) -> None:
    box.write("project", {"env": {"ANTHROPIC_AUTH_TOKEN": value}})
    facts, _ = box.run()
    (bad,) = facts["config.invalid_settings"]
    assert bad["message"] == f"'env.ANTHROPIC_AUTH_TOKEN' must be a string, not {kind}"
    dumped = json.dumps(facts)
    assert "CANARY" not in dumped and "4155550123987" not in dumped


def test_workspace_trusted_fact(box: Box) -> None:
    facts, _ = box.run()
    assert facts["config.workspace_trusted"] is False
    (box.home / ".claude.json").write_text(json.dumps(
        {"projects": {str(box.cwd): {"hasTrustDialogAccepted": True}}}))
    facts, _ = box.run()
    assert facts["config.workspace_trusted"] is True


@pytest.mark.parametrize(("url", "error", "suggestion"), [
    ("litellm.corp:4000", "scheme 'litellm.corp' is not http or https",
     {"scheme": "https", "host": "litellm.corp", "port": "4000"}),
    ("http://127.0.0.1:99999", "cannot parse the URL",
     {"scheme": "http", "host": "127.0.0.1", "port": "<port>"}),
    ("file:///etc/passwd", "scheme 'file'",
     {"scheme": "https", "host": "<host>", "port": "<port>"}),
    ("http://gw.corp:4000/ v1", "it contains a space",
     {"scheme": "http", "host": "gw.corp", "port": "4000"}),
    ("http://user:pw@[::1]:4000/x", None, None),
])
def test_an_unusable_base_url_gets_a_reason_and_a_suggested_fix(
        box: Box, url: str, error: str | None, suggestion: dict | None) -> None:
    facts, _ = box.run({"ANTHROPIC_BASE_URL": url})
    if error is None:
        assert facts["gateway.url_error"] is None and facts["gateway.url_suggestion"] is None
    else:
        assert error in facts["gateway.url_error"]
        assert facts["gateway.url_suggestion"] == suggestion


def test_a_claude_json_that_cannot_be_read_safely_is_a_fact_not_a_silent_loss(box: Box) -> None:
    import os as _os

    facts, _ = box.run()
    assert facts["config.claude_json_problem"] is None  # absent: nothing to say
    fifo = box.home / ".claude.json"
    _os.mkfifo(fifo)
    facts, _ = box.run()
    problem = facts["config.claude_json_problem"]
    assert problem and problem["path"] == str(fifo) and "fifo" in problem["problem"].lower()
    assert facts["config.workspace_trusted"] is False
