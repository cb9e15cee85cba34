"""provider.cloud from real ~/.aws and gcloud files in tmp dirs, after config.settings, offline."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from gwdoctor.engine import Options, ProbeContext
from gwdoctor.probes.config import client_version, settings
from gwdoctor.probes.provider import cloud

SECRET = "AKIA-canary-secret-9d2f"


def scan(tmp_path: Path, env: dict[str, str], version: str = "2.1.332",
         user_settings: dict[str, Any] | None = None) -> dict[str, Any]:
    home, cwd = tmp_path / "home", tmp_path / "proj"
    home.mkdir(exist_ok=True)
    cwd.mkdir(exist_ok=True)
    if user_settings is not None:
        (home / ".claude").mkdir(exist_ok=True)
        (home / ".claude/settings.json").write_text(json.dumps(user_settings))
    ctx = ProbeContext(env=env, facts={}, home=home, cwd=cwd, root=tmp_path / "root",
                       options=Options(plugin={"client_version": version}))
    facts: dict[str, Any] = dict(client_version.run(ctx))
    ctx.facts = facts
    facts.update(settings.run(ctx))
    facts.update(cloud.run(ctx))
    text = json.dumps(facts)
    assert SECRET not in text
    return facts


def aws(tmp_path: Path, config: str = "", credentials: str = "") -> None:
    d = tmp_path / "home/.aws"
    d.mkdir(parents=True, exist_ok=True)
    (d / "config").write_text(config)
    (d / "credentials").write_text(credentials)


def test_anthropic_mode_has_no_provider_facts(tmp_path: Path) -> None:
    facts = scan(tmp_path, {})
    assert facts["provider.bedrock"] is None and facts["provider.vertex"] is None


def test_bedrock_env_region_and_keys(tmp_path: Path) -> None:
    facts = scan(tmp_path, {"CLAUDE_CODE_USE_BEDROCK": "1", "AWS_REGION": "eu-west-1",
                            "AWS_ACCESS_KEY_ID": SECRET, "AWS_SECRET_ACCESS_KEY": SECRET})
    b = facts["provider.bedrock"]
    assert (b["region"], b["region_source"], b["region_prefix"]) == (
        "eu-west-1", "AWS_REGION", "eu")
    assert b["credentials"]["kind"] == "env" and b["skip_auth"] is False


@pytest.mark.parametrize("version, region, source, ignored", [
    ("2.1.332", "ap-southeast-2", "profile", []),
    ("2.1.100", "us-east-1", "default", ["profile"]),
])
def test_bedrock_profile_region_depends_on_version(tmp_path: Path, version: str, region: str,
                                                   source: str, ignored: list[str]) -> None:
    aws(tmp_path, "[default]\nregion = ap-southeast-2\n",
        f"[default]\naws_access_key_id = {SECRET}\naws_secret_access_key = {SECRET}\n")
    b = scan(tmp_path, {"CLAUDE_CODE_USE_BEDROCK": "1"}, version)["provider.bedrock"]
    assert (b["region"], b["region_source"]) == (region, source)
    assert [i["var"] for i in b["region_ignored"]] == ignored
    assert b["credentials"]["kind"] == "profile"


def test_bedrock_from_settings_env_and_region_name_ignored(tmp_path: Path) -> None:
    facts = scan(tmp_path, {"AWS_REGION_NAME": "eu-central-1"}, user_settings={
        "env": {"CLAUDE_CODE_USE_BEDROCK": "1", "AWS_BEARER_TOKEN_BEDROCK": SECRET,
                "ANTHROPIC_BEDROCK_BASE_URL": "http://gw:4000/bedrock",
                "CLAUDE_CODE_SKIP_BEDROCK_AUTH": "1"}})
    b = facts["provider.bedrock"]
    assert b["region"] == "us-east-1" and b["region_ignored"] == [{"var": "AWS_REGION_NAME",
                                                                   "value": "eu-central-1"}]
    assert b["credentials"]["kind"] == "bearer_token"
    assert b["skip_auth"] is True and b["base_url"] == "http://gw:4000/bedrock"


@pytest.mark.parametrize("delta, expired", [(timedelta(hours=-2), True),
                                            (timedelta(hours=3), False)])
def test_bedrock_sso_cache_expiry(tmp_path: Path, delta: timedelta, expired: bool) -> None:
    aws(tmp_path, "[profile dev]\nsso_session = corp\nregion = us-west-2\n"
                  "[sso-session corp]\nsso_start_url = https://corp.awsapps.com/start\n")
    cache = tmp_path / "home/.aws/sso/cache"
    cache.mkdir(parents=True)
    stamp = (datetime.now(timezone.utc) + delta).strftime("%Y-%m-%dT%H:%M:%SZ")
    (cache / f"{hashlib.sha1(b'corp').hexdigest()}.json").write_text(
        json.dumps({"accessToken": SECRET, "expiresAt": stamp}))
    b = scan(tmp_path, {"CLAUDE_CODE_USE_BEDROCK": "1", "AWS_PROFILE": "dev"})["provider.bedrock"]
    assert b["profile"] == "dev" and b["region"] == "us-west-2"
    assert b["credentials"]["kind"] == "sso" and b["credentials"]["expired"] is expired


def test_bedrock_without_any_credentials(tmp_path: Path) -> None:
    aws(tmp_path, "[default]\nregion = us-east-2\n")
    b = scan(tmp_path, {"CLAUDE_CODE_USE_BEDROCK": "1"})["provider.bedrock"]
    creds = b["credentials"]
    assert (creds["kind"], creds["expired"], creds["expires_at"], creds["shadowed"]) == (
        None, None, None, [])
    assert "nothing in the chain" in creds["why"]


def test_broken_aws_files_do_not_crash(tmp_path: Path) -> None:
    aws(tmp_path, "not an ini file [[[\n\x00", "=\n[default\n")
    b = scan(tmp_path, {"CLAUDE_CODE_USE_BEDROCK": "1"})["provider.bedrock"]
    assert b["credentials"]["kind"] is None


def adc(tmp_path: Path, data: Any,
        where: str = "home/.config/gcloud/application_default_credentials.json") -> Path:
    path = tmp_path / where
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(data if isinstance(data, str) else json.dumps(data))
    return path


def test_vertex_project_precedence_and_adc_type(tmp_path: Path) -> None:
    """ANTHROPIC_VERTEX_PROJECT_ID wins over the key file and GOOGLE_CLOUD_PROJECT (captured on
    2.1.332: tests/capture/test_provider_capture.py::test_vertex_project_precedence)."""
    key = adc(tmp_path, {"type": "service_account", "project_id": "from-file",
                         "private_key": SECRET}, "keys/sa.json")
    v = scan(tmp_path, {"CLAUDE_CODE_USE_VERTEX": "1", "ANTHROPIC_VERTEX_PROJECT_ID": "mine",
                        "GOOGLE_APPLICATION_CREDENTIALS": str(key),
                        "CLOUD_ML_REGION": "global"})["provider.vertex"]
    assert (v["project_id"], v["project_source"]) == ("mine", "ANTHROPIC_VERTEX_PROJECT_ID")
    assert [(i["var"], i["value"]) for i in v["project_ignored"]] == [("adc_file", "from-file")]
    assert v["adc"]["type"] == "service_account" and v["adc"]["exists"] is True
    assert (v["region"], v["region_valid"]) == ("global", True)
    v = scan(tmp_path, {"CLAUDE_CODE_USE_VERTEX": "1", "ANTHROPIC_VERTEX_PROJECT_ID": "mine",
                        "GOOGLE_CLOUD_PROJECT": "gcp"})["provider.vertex"]
    assert (v["project_id"] == "mine" and v["adc"]["source"] == "gcloud_default"
            and v["adc"]["exists"] is False)
    # Without the client's own variable, Google auth may supply the project; under the skip
    # variable nothing does (the client refuses to start).
    v = scan(tmp_path, {"CLAUDE_CODE_USE_VERTEX": "1",
                        "GOOGLE_CLOUD_PROJECT": "gcp"})["provider.vertex"]
    assert (v["project_id"], v["project_source"]) == ("gcp", "GOOGLE_CLOUD_PROJECT")
    v = scan(tmp_path, {"CLAUDE_CODE_USE_VERTEX": "1", "CLAUDE_CODE_SKIP_VERTEX_AUTH": "1",
                        "GOOGLE_CLOUD_PROJECT": "gcp"})["provider.vertex"]
    assert (v["project_id"] is None
            and "only ANTHROPIC_VERTEX_PROJECT_ID" in v["project_ignored"][0]["why"])


def test_bedrock_credential_precedence(tmp_path: Path) -> None:
    """Bearer key > awsCredentialExport > (AWS_PROFILE set: the profile; else env keys) — the
    order captured on 2.1.332 (test_provider_capture.py::test_bedrock_credential_precedence)."""
    aws(tmp_path, "[profile claude]\nregion = us-east-1\n",
        "[claude]\naws_access_key_id = AKIAPROFILE\naws_secret_access_key = s\n"
        "[default]\naws_access_key_id = AKIADEFAULT\naws_secret_access_key = s\n")
    env = {"CLAUDE_CODE_USE_BEDROCK": "1", "AWS_ACCESS_KEY_ID": "AKIAENV",
           "AWS_SECRET_ACCESS_KEY": "s"}
    c = scan(tmp_path, env)["provider.bedrock"]["credentials"]
    assert c["kind"] == "env" and [s["kind"] for s in c["shadowed"]] == ["profile"]
    c = scan(tmp_path, {**env, "AWS_PROFILE": "claude"})["provider.bedrock"]["credentials"]
    assert c["kind"] == "profile" and "AWS_PROFILE=claude" in c["why"]
    assert (c["shadowed"][0]["kind"] == "env"
            and "ignores the environment keys" in c["shadowed"][0]["why"])
    c = scan(tmp_path, {**env, "AWS_BEARER_TOKEN_BEDROCK": "k"})["provider.bedrock"]["credentials"]
    assert c["kind"] == "bearer_token" and {s["kind"] for s in c["shadowed"]} == {"env", "profile"}
    c = scan(tmp_path, env,
             user_settings={"awsCredentialExport": "echo {}"})["provider.bedrock"]["credentials"]
    assert c["kind"] == "settings_export" and c["shadowed"][0]["kind"] == "env"


def test_vertex_missing_key_file_and_bad_regions(tmp_path: Path) -> None:
    v = scan(tmp_path, {"CLAUDE_CODE_USE_VERTEX": "1",
                        "GOOGLE_APPLICATION_CREDENTIALS": "keys/gone.json",
                        "CLOUD_ML_REGION": "us-east-1",
                        "VERTEX_REGION_CLAUDE_HAIKU_4_5": "us-east5",
                        "VERTEX_REGION_CLAUDE_4_5_SONNET": "eu.west"})["provider.vertex"]
    assert v["project_id"] is None
    assert v["adc"]["exists"] is False and v["adc"]["error"] == "file not found"
    assert v["adc"]["path"] == str(tmp_path / "proj/keys/gone.json")
    assert (v["region"], v["region_valid"]) == ("us-east-1", False)
    assert v["invalid_model_regions"] == ["VERTEX_REGION_CLAUDE_4_5_SONNET"]
    v = scan(tmp_path, {"CLAUDE_CODE_USE_VERTEX": "1", "CLOUD_ML_REGION": "europe west1",
                        "CLAUDE_CODE_SKIP_VERTEX_AUTH": "true"})["provider.vertex"]
    assert (v["region"], v["region_valid"], v["skip_auth"]) == ("us-east5", False, True)


def test_vertex_adc_file_that_is_not_a_credential(tmp_path: Path) -> None:
    adc(tmp_path, "{not json")
    v = scan(tmp_path, {"CLAUDE_CODE_USE_VERTEX": "1",
                        "ANTHROPIC_VERTEX_PROJECT_ID": "p"})["provider.vertex"]
    assert v["adc"]["exists"] is True and "not a credential file" in v["adc"]["error"]


def test_vertex_adc_kind_and_project_mismatch(tmp_path: Path) -> None:
    key = adc(tmp_path, {"type": "service_account", "project_id": "sandbox-proj",
                         "private_key": SECRET}, "keys/sa.json")
    v = scan(tmp_path, {"CLAUDE_CODE_USE_VERTEX": "1", "ANTHROPIC_VERTEX_PROJECT_ID": "prod-proj",
                        "GOOGLE_APPLICATION_CREDENTIALS": str(key)})["provider.vertex"]
    assert v["adc"]["kind"] == "service-account key" and v["adc"]["project"] == "sandbox-proj"
    assert v["project_mismatch"] == {"adc_project": "sandbox-proj", "configured": "prod-proj"}
    adc(tmp_path, {"type": "authorized_user", "quota_project_id": "prod-proj",
                   "refresh_token": SECRET})
    v = scan(tmp_path, {"CLAUDE_CODE_USE_VERTEX": "1",
                        "ANTHROPIC_VERTEX_PROJECT_ID": "prod-proj"})["provider.vertex"]
    assert v["adc"]["kind"].startswith("gcloud user login") and v["project_mismatch"] is None
