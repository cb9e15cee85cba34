"""Provider mode, captured, without a gateway: the cloud host the client reaches when no base URL
is set (in a fresh network namespace behind a recording proxy that refuses every tunnel), and which
credential or project it uses when several are configured, compared with gwdoctor's facts."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import pytest
from _provider_lab import (
    AWS,
    CLAUDE,
    GWDOCTOR,
    REPO,
    ProviderFake,
    Recorder,
    _env,
    _posts,
    _route,
    _run_client,
)

pytestmark = pytest.mark.client


DIRECT = """
import json, os, subprocess, sys, tempfile
sys.path.insert(0, {repo!r})
from gwdoctor.probes._recorder import RecordingProxy
with RecordingProxy() as px:
    env = dict(json.loads(sys.argv[1]), HTTPS_PROXY=px.url)
    subprocess.run([{claude!r}, "-p", "say hi"], env=env, capture_output=True, timeout=90,
                   stdin=subprocess.DEVNULL)
    client = [e.target for e in px.exchanges if e.via == "connect"]
    del px.exchanges[:]
    subprocess.run([{gwdoctor!r}, "scan", "--format", "json", "--timeout", "2"], env=env,
                   capture_output=True, timeout=90, stdin=subprocess.DEVNULL, cwd=env["HOME"])
    probes = [e.target for e in px.exchanges if e.via == "connect"]
    print(json.dumps({{"client": client, "probes": probes}}))
"""


def _direct(extra: dict[str, str]) -> tuple[dict[str, list[str]], dict[str, Any]]:
    with tempfile.TemporaryDirectory() as tmp:
        env = _env(Path(tmp), extra)
        script = DIRECT.format(repo=str(REPO), claude=str(CLAUDE), gwdoctor=str(GWDOCTOR))
        done = subprocess.run(["unshare", "--net", "sh", "-c",
                               'ip link set lo up && exec "$0" -c "$1" "$2"',
                               sys.executable, script, json.dumps(env)],
                              capture_output=True, text=True, timeout=150)
        assert done.returncode == 0, done.stderr
        targets = json.loads(done.stdout.strip().splitlines()[-1])
        return targets, _route(env)


@pytest.mark.parametrize(("extra", "host"), [
    ({"CLAUDE_CODE_USE_BEDROCK": "1", "AWS_REGION": "eu-west-1", **AWS},
     "bedrock-runtime.eu-west-1.amazonaws.com"),
    ({"CLAUDE_CODE_USE_VERTEX": "1", "CLAUDE_CODE_SKIP_VERTEX_AUTH": "1",
      "ANTHROPIC_VERTEX_PROJECT_ID": "p", "CLOUD_ML_REGION": "global"},
     "aiplatform.googleapis.com"),
    ({"CLAUDE_CODE_USE_VERTEX": "1", "CLAUDE_CODE_SKIP_VERTEX_AUTH": "1",
      "ANTHROPIC_VERTEX_PROJECT_ID": "p", "CLOUD_ML_REGION": "eu"},
     "aiplatform.eu.rep.googleapis.com"),
    ({"CLAUDE_CODE_USE_VERTEX": "1", "CLAUDE_CODE_SKIP_VERTEX_AUTH": "1",
      "ANTHROPIC_VERTEX_PROJECT_ID": "p", "CLOUD_ML_REGION": "europe-west1"},
     "europe-west1-aiplatform.googleapis.com"),
], ids=["bedrock-eu-west-1", "vertex-global", "vertex-eu", "vertex-europe-west1"])
def test_direct_cloud_host(extra: dict[str, str], host: str) -> None:
    """No base URL: the host the client tunnels to is the one the probes resolve and tunnel to."""
    seen, route = _direct(extra)
    targets = seen["client"]
    assert f"{host}:443" in targets, targets
    # gwdoctor's own probes, through the same proxy, tunnel to the same host and nowhere else.
    assert seen["probes"] and set(seen["probes"]) <= set(targets) | {
        f"{route['control']['host']}:443" if route.get("control") else ""}, seen
    assert route["host"] == host and route["port"] == 443 and route["scheme"] == "https"
    if "CLAUDE_CODE_USE_BEDROCK" in extra:
        # The AWS SDK's control-plane call goes to bedrock.<region>, not bedrock-runtime.
        assert "bedrock.eu-west-1.amazonaws.com:443" in targets
        assert route["control"]["host"] == "bedrock.eu-west-1.amazonaws.com"


def test_mantle_direct_host() -> None:
    seen, route = _direct({"CLAUDE_CODE_USE_MANTLE": "1", "CLAUDE_CODE_SKIP_MANTLE_AUTH": "1",
                           "AWS_REGION": "us-west-2"})
    assert "bedrock-mantle.us-west-2.api.aws:443" in seen["client"], seen
    assert route["host"] == "bedrock-mantle.us-west-2.api.aws" and route["path"] == "/anthropic"
    assert seen["probes"] and set(seen["probes"]) <= set(seen["client"]), seen


CREDS_FILE = ("[claude]\naws_access_key_id = AKIAPROFILEKEY000001\n"
              "aws_secret_access_key = profilesecret\n"
              "[default]\naws_access_key_id = AKIADEFAULTKEY000001\n"
              "aws_secret_access_key = defaultsecret\n")
ENV_KEYS = {"AWS_ACCESS_KEY_ID": "AKIAENVKEY0000000001", "AWS_SECRET_ACCESS_KEY": "envsecret"}
EXPORT = {".claude/settings.json": json.dumps({"awsCredentialExport":
                                               "echo '{\"Credentials\":{\"AccessKeyId\":"
                                               "\"AKIAEXPORTKEY0000001\",\"SecretAccessKey\":\"s\","
                                               "\"SessionToken\":\"t\"}}'"})}


def _with_files(extra: dict[str, str], files: dict[str, str], *,
                mode: str) -> tuple[Any, list[Any], dict[str, Any]]:
    """Run the client and gwdoctor's offline facts on a HOME holding ``files``."""
    prefix = "/bedrock" if mode == "bedrock" else "/vertex_ai"
    fake = ProviderFake(require_auth=False, prefix=prefix, project="anything")
    with Recorder(responder=fake.respond) as rec, tempfile.TemporaryDirectory() as tmp:
        for rel, text in files.items():
            path = Path(tmp) / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
        base = (("ANTHROPIC_BEDROCK_BASE_URL", rec.url + "/bedrock") if mode == "bedrock"
                else ("ANTHROPIC_VERTEX_BASE_URL", rec.url + "/vertex_ai/v1"))
        env = _env(Path(tmp), {**{k: v.replace("{home}", tmp) for k, v in extra.items()},
                               base[0]: base[1]})
        done = _run_client(env)
        client = list(rec.exchanges)
        # A live scan (network probes on) against the same recorder: what gwdoctor signs with.
        out = subprocess.run([str(GWDOCTOR), "scan", "--format", "json", "--fail-on", "never",
                              "--timeout", "3"],
                             env=env, capture_output=True, text=True, timeout=60, cwd=tmp)
        facts = json.loads(out.stdout)["facts"]
        facts["_probe_exchanges"] = rec.exchanges[len(client):]
    return done, client, facts


@pytest.mark.parametrize(("extra", "files", "key", "kind"), [
    ({**ENV_KEYS, "AWS_PROFILE": "claude"}, {".aws/credentials": CREDS_FILE},
     "AKIAPROFILEKEY000001", "profile"),
    (ENV_KEYS, {".aws/credentials": CREDS_FILE}, "AKIAENVKEY0000000001", "env"),
    ({"AWS_PROFILE": "claude"}, {".aws/credentials": CREDS_FILE}, "AKIAPROFILEKEY000001",
     "profile"),
    (ENV_KEYS, EXPORT, "AKIAEXPORTKEY0000001", "settings_export"),
    ({**ENV_KEYS, "AWS_BEARER_TOKEN_BEDROCK": "bedrock-api-key-abc"}, EXPORT, "Bearer",
     "bearer_token"),
], ids=["profile-beats-env-when-AWS_PROFILE-set", "env-beats-default-profile", "profile-only",
        "credential-export-beats-env", "bearer-beats-export-and-env"])
def test_bedrock_credential_precedence(extra: dict[str, str], files: dict[str, str], key: str,
                                       kind: str) -> None:
    """Which credential signs the requests, and gwdoctor's provider.bedrock.credentials.kind."""
    done, seen, facts = _with_files({"CLAUDE_CODE_USE_BEDROCK": "1", "AWS_REGION": "us-east-1",
                                     **extra}, files, mode="bedrock")
    signed = {e.headers.get("authorization", "") for e in _posts(seen)}
    assert signed and all(key in a for a in signed), signed
    assert facts["provider.bedrock"]["credentials"]["kind"] == kind
    probe = {e.headers.get("authorization", "") for e in _posts(facts["_probe_exchanges"])}
    if kind == "settings_export":  # gwdoctor does not run the export command: nothing is sent
        assert not probe and all(c["checked"] is False for c in facts["provider.model_checks"])
    else:  # the probe signs with the same credential the client used
        assert probe and all(key in a for a in probe), probe


SA_FILE = json.dumps({"type": "service_account", "project_id": "sa-project", "private_key": "x",
                      "client_email": "a@sa-project.iam.gserviceaccount.com",
                      "token_uri": "https://oauth2.googleapis.com/token"})


@pytest.mark.parametrize(("extra", "files", "project"), [
    ({"ANTHROPIC_VERTEX_PROJECT_ID": "anthropic-var", "GOOGLE_CLOUD_PROJECT": "gcp-var"}, {},
     "anthropic-var"),
    ({"ANTHROPIC_VERTEX_PROJECT_ID": "anthropic-var", "GCLOUD_PROJECT": "gcloud-var"}, {},
     "anthropic-var"),
    ({"ANTHROPIC_VERTEX_PROJECT_ID": "anthropic-var",
      "GOOGLE_APPLICATION_CREDENTIALS": "{home}/sa.json"}, {"sa.json": SA_FILE}, "anthropic-var"),
    ({"GOOGLE_CLOUD_PROJECT": "gcp-var"}, {}, None),
    ({"GOOGLE_APPLICATION_CREDENTIALS": "{home}/sa.json"}, {"sa.json": SA_FILE}, None),
], ids=["own-var-beats-GOOGLE_CLOUD_PROJECT", "own-var-beats-GCLOUD_PROJECT",
        "own-var-beats-key-file", "GOOGLE_CLOUD_PROJECT-alone-is-not-read",
        "key-file-alone-is-not-read"])
def test_vertex_project_precedence(extra: dict[str, str], files: dict[str, str],
                                   project: str | None) -> None:
    """Under CLAUDE_CODE_SKIP_VERTEX_AUTH only ANTHROPIC_VERTEX_PROJECT_ID names the project in the
    path (the docs say the other variables override it); without it the client does not start."""
    done, seen, facts = _with_files({"CLAUDE_CODE_USE_VERTEX": "1",
                                     "CLAUDE_CODE_SKIP_VERTEX_AUTH": "1",
                                     "CLOUD_ML_REGION": "us-east5", **extra}, files, mode="vertex")
    used = {e.path.split("/projects/", 1)[1].split("/", 1)[0] for e in _posts(seen)}
    assert used == ({project} if project else set()), used
    if not project:
        assert "ANTHROPIC_VERTEX_PROJECT_ID" in done.stdout + done.stderr
    assert facts["provider.vertex"]["project_id"] == project
