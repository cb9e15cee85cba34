"""Provider mode, captured: what Claude Code 2.1.332 sends in Bedrock and Vertex mode, compared with
the route gwdoctor's probes follow (``route.target``).

Through a base-URL override the client talks to a loopback recorder that answers in the
provider's wire format (tests/live/_provider_fake.py), so it finishes after one request per
model. Without an override (the cloud's own endpoint) the client runs in a fresh network
namespace (``unshare --net``, loopback only) behind a recording proxy that refuses every
tunnel: the CONNECT target is the host it would reach, and nothing leaves the machine.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import pytest
from gwdoctor.probes._recorder import Recorder

REPO = Path(__file__).resolve().parents[2]
CLAUDE = REPO / ".lab/claude/node_modules/.bin/claude"
GWDOCTOR = Path(sys.executable).parent / "gwdoctor"
sys.path.insert(0, str(REPO / "tests/live"))

from _provider_fake import ProviderFake  # noqa: E402

pytestmark = pytest.mark.client

AWS = {"AWS_ACCESS_KEY_ID": "AKIAIOSFODNN7EXAMPLE", "AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"}


def _env(home: Path, extra: dict[str, str]) -> dict[str, str]:
    return {"PATH": os.environ.get("PATH", ""), "HOME": str(home), "CLAUDE_CODE_MAX_RETRIES": "0", **extra}


def _run_client(env: dict[str, str], model: str | None = None) -> subprocess.CompletedProcess[str]:
    args = [str(CLAUDE), "-p", "say hi"] + (["--model", model] if model else [])
    return subprocess.run(args, env=env, capture_output=True, text=True, timeout=120,
                          stdin=subprocess.DEVNULL, cwd=env["HOME"])


def _route(env: dict[str, str], model: str | None = None) -> dict[str, Any]:
    """gwdoctor's ``route.target`` for the same setup (offline: no probe touches the network)."""
    if model:
        env = {**env, "ANTHROPIC_MODEL": model}
    out = subprocess.run([str(GWDOCTOR), "scan", "--offline", "--format", "json", "--fail-on", "never"],
                         env=env, capture_output=True, text=True, timeout=60, cwd=env["HOME"])
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)["facts"]["route.target"]


def _capture(extra: dict[str, str], model: str | None = None, *, base_var: str, base_path: str):
    fake = ProviderFake(require_auth=False, prefix=base_path.removesuffix("/v1"))
    with Recorder(responder=fake.respond) as rec, tempfile.TemporaryDirectory() as tmp:
        env = _env(Path(tmp), {**extra, base_var: rec.url + base_path})
        done = _run_client(env, model)
        route = _route(env, model)
    return done, rec.exchanges, route


def _probed(extra: dict[str, str], model: str | None = None, *, base_var: str, base_path: str) -> list[Any]:
    """What a live ``gwdoctor scan`` sends to the same kind of recorder."""
    fake = ProviderFake(require_auth=False, prefix=base_path.removesuffix("/v1"))
    with Recorder(responder=fake.respond) as rec, tempfile.TemporaryDirectory() as tmp:
        env = _env(Path(tmp), {**extra, base_var: rec.url + base_path, **({"ANTHROPIC_MODEL": model} if model else {})})
        out = subprocess.run([str(GWDOCTOR), "scan", "--format", "json", "--fail-on", "never", "--timeout", "3"],
                             env=env, capture_output=True, text=True, timeout=60, cwd=env["HOME"])
        assert out.returncode == 0, out.stderr
    return rec.exchanges


@pytest.mark.parametrize("mode", ["bedrock", "vertex"])
def test_probes_hit_the_client_path(mode: str) -> None:
    """The model probe posts to exactly the path the client streams to, with the same
    credential headers (none under the skip variable), the same anthropic-version and body
    version, and never anywhere near /v1/messages."""
    extra, var, base = ((BEDROCK_SKIP, "ANTHROPIC_BEDROCK_BASE_URL", "/bedrock") if mode == "bedrock"
                        else (VERTEX_SKIP, "ANTHROPIC_VERTEX_BASE_URL", "/vertex_ai/v1"))
    _done, client, _route_fact = _capture(extra, base_var=var, base_path=base)
    probe = _probed(extra, base_var=var, base_path=base)
    client_main = _streams(client)[0]
    probe_posts = _posts(probe)
    assert client_main.path in {e.path for e in probe_posts}, [e.path for e in probe_posts]
    mine = [e for e in probe_posts if e.path == client_main.path][0]
    for header in ("authorization", "x-api-key"):
        assert (header in mine.headers) == (header in client_main.headers)
    assert mine.headers["anthropic-version"] == client_main.headers["anthropic-version"]
    assert mine.json["anthropic_version"] == client_main.json["anthropic_version"]
    assert not any(e.path.endswith("/v1/messages") for e in probe)


def _posts(exchanges: list[Any]) -> list[Any]:
    return [e for e in exchanges if e.method == "POST"]


def test_bedrock_gateway_skip_auth_main_model() -> None:
    done, seen, route = _capture({"CLAUDE_CODE_USE_BEDROCK": "1", "CLAUDE_CODE_SKIP_BEDROCK_AUTH": "1"},
                                 base_var="ANTHROPIC_BEDROCK_BASE_URL", base_path="/bedrock")
    assert "Hello from fake upstream." in done.stdout, done.stdout + done.stderr
    first = _posts(seen)[0]  # without credentials there is no availability check first
    assert (first.method, first.path) == ("POST", "/bedrock/model/us.anthropic.claude-opus-5-5/invoke-with-response-stream")
    assert "authorization" not in first.headers and "x-api-key" not in first.headers
    assert first.json["anthropic_version"] == "bedrock-2023-05-31" and "model" not in first.json
    control = [e for e in seen if e.method == "GET"]
    assert control and (control[0].path, control[0].query) == ("/bedrock/inference-profiles", "type=SYSTEM_DEFINED")
    # What the probes hit: the same path on the same host, no credential header.
    assert route["requests"][0]["path"] == first.path
    assert route["host"] == "127.0.0.1" and route["auth"] == "none"
    assert route["control"]["url"].endswith("/bedrock/inference-profiles?type=SYSTEM_DEFINED")


def _streams(exchanges: list[Any]) -> list[Any]:
    return [e for e in _posts(exchanges) if e.path.endswith(("invoke-with-response-stream", ":streamRawPredict"))]


def test_bedrock_gateway_sigv4_region_prefix() -> None:
    """With credentials the client signs with SigV4 for AWS_REGION, prefixes the default model
    with that region's inference-profile geography, and (2.1.332) first sends max_tokens: 1
    ``/invoke`` availability checks; the conversation itself streams."""
    extra = {"CLAUDE_CODE_USE_BEDROCK": "1", "AWS_REGION": "eu-west-1", **AWS,
             "ANTHROPIC_DEFAULT_HAIKU_MODEL": "eu.anthropic.claude-haiku-4-5-20251001-v1:0",
             "ANTHROPIC_SMALL_FAST_MODEL_AWS_REGION": "us-west-2"}
    done, seen, route = _capture(extra, base_var="ANTHROPIC_BEDROCK_BASE_URL", base_path="/bedrock")
    assert "Hello from fake upstream." in done.stdout, done.stdout + done.stderr
    main = _streams(seen)[0]
    assert main.path == "/bedrock/model/eu.anthropic.claude-opus-5-5/invoke-with-response-stream"
    assert re.match(r"AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/\d{8}/eu-west-1/bedrock/aws4_request",
                    main.headers["authorization"])
    assert route["requests"][0]["path"] == main.path and route["auth"] == "sigv4"
    # ANTHROPIC_SMALL_FAST_MODEL_AWS_REGION is for the background (haiku) requests only: with
    # --model haiku the haiku model is the main one and goes to AWS_REGION, as predicted.
    done, seen, route = _capture(extra, "haiku", base_var="ANTHROPIC_BEDROCK_BASE_URL", base_path="/bedrock")
    main = _streams(seen)[0]
    assert main.path == "/bedrock/model/eu.anthropic.claude-haiku-4-5-20251001-v1:0/invoke-with-response-stream"
    assert "/eu-west-1/bedrock/" in main.headers["authorization"]
    assert route["requests"][0]["path"] == main.path and route["requests"][0]["region"] == "eu-west-1"


def test_vertex_gateway_skip_auth_main_and_haiku_region() -> None:
    extra = {"CLAUDE_CODE_USE_VERTEX": "1", "CLAUDE_CODE_SKIP_VERTEX_AUTH": "1",
             "ANTHROPIC_VERTEX_PROJECT_ID": "acme-claude-prod", "CLOUD_ML_REGION": "us-east5",
             "VERTEX_REGION_CLAUDE_HAIKU_5_5": "global"}
    done, seen, route = _capture(extra, base_var="ANTHROPIC_VERTEX_BASE_URL", base_path="/vertex_ai/v1")
    assert "Hello from fake upstream." in done.stdout, done.stdout + done.stderr
    first = _posts(seen)[0]
    assert first.path == ("/vertex_ai/v1/projects/acme-claude-prod/locations/us-east5/publishers/anthropic/"
                          "models/claude-opus-5-5:streamRawPredict")
    assert "authorization" not in first.headers
    assert first.headers["anthropic-version"] == "2023-06-01"
    assert first.json["anthropic_version"] == "vertex-2023-10-16" and first.json["stream"] is True
    assert route["requests"][0]["path"] == first.path and route["auth"] == "none"
    # --model haiku: in Vertex mode the haiku alias is claude-haiku-4-5@20251001 (not the
    # Anthropic-mode claude-haiku-5-5), so VERTEX_REGION_CLAUDE_HAIKU_4_5 picks its location.
    done, seen, route = _capture({**extra, "VERTEX_REGION_CLAUDE_HAIKU_4_5": "global"}, "haiku",
                                 base_var="ANTHROPIC_VERTEX_BASE_URL", base_path="/vertex_ai/v1")
    first = _streams(seen)[0]
    assert first.path.endswith("/locations/global/publishers/anthropic/models/claude-haiku-4-5@20251001:streamRawPredict")
    assert route["requests"][0]["path"] == first.path and route["requests"][0]["region_var"] == "VERTEX_REGION_CLAUDE_HAIKU_4_5"


BEDROCK_SKIP = {"CLAUDE_CODE_USE_BEDROCK": "1", "CLAUDE_CODE_SKIP_BEDROCK_AUTH": "1"}
VERTEX_SKIP = {"CLAUDE_CODE_USE_VERTEX": "1", "CLAUDE_CODE_SKIP_VERTEX_AUTH": "1",
               "ANTHROPIC_VERTEX_PROJECT_ID": "acme-claude-prod", "CLOUD_ML_REGION": "us-east5"}


@pytest.mark.parametrize(("mode", "alias", "sent"), [
    ("bedrock", "opus", "us.anthropic.claude-opus-5-5"),
    ("bedrock", "sonnet", "us.anthropic.claude-sonnet-4-5-20250929-v1:0"),
    ("bedrock", "haiku", "us.anthropic.claude-haiku-4-5-20251001-v1:0"),
    ("vertex", "opus", "claude-opus-5-5"),
    ("vertex", "sonnet", "claude-sonnet-5-5"),
    ("vertex", "haiku", "claude-haiku-4-5@20251001"),
])
def test_provider_default_models(mode: str, alias: str, sent: str) -> None:
    """The built-in aliases in provider mode (knowledge/client.yaml provider_default_models)."""
    extra, var, base = ((BEDROCK_SKIP, "ANTHROPIC_BEDROCK_BASE_URL", "/bedrock") if mode == "bedrock"
                        else (VERTEX_SKIP, "ANTHROPIC_VERTEX_BASE_URL", "/vertex_ai/v1"))
    done, seen, route = _capture(extra, alias, base_var=var, base_path=base)
    first = _streams(seen)[0]
    assert f"/{sent}/" in first.path or f"/{sent}:" in first.path, first.path
    assert route["requests"][0]["model"] == sent and route["requests"][0]["path"] == first.path


DIRECT = """
import json, os, subprocess, sys, tempfile
sys.path.insert(0, {repo!r})
from gwdoctor.probes._recorder import RecordingProxy
with RecordingProxy() as px:
    env = dict(json.loads(sys.argv[1]), HTTPS_PROXY=px.url)
    subprocess.run([{claude!r}, "-p", "say hi"], env=env, capture_output=True, timeout=90, stdin=subprocess.DEVNULL)
    client = [e.target for e in px.exchanges if e.via == "connect"]
    del px.exchanges[:]
    subprocess.run([{gwdoctor!r}, "scan", "--format", "json", "--timeout", "2"], env=env, capture_output=True,
                   timeout=90, stdin=subprocess.DEVNULL, cwd=env["HOME"])
    print(json.dumps({{"client": client, "probes": [e.target for e in px.exchanges if e.via == "connect"]}}))
"""


def _direct(extra: dict[str, str]) -> tuple[dict[str, list[str]], dict[str, Any]]:
    with tempfile.TemporaryDirectory() as tmp:
        env = _env(Path(tmp), extra)
        script = DIRECT.format(repo=str(REPO), claude=str(CLAUDE), gwdoctor=str(GWDOCTOR))
        done = subprocess.run(["unshare", "--net", "sh", "-c", 'ip link set lo up && exec "$0" -c "$1" "$2"',
                               sys.executable, script, json.dumps(env)],
                              capture_output=True, text=True, timeout=150)
        assert done.returncode == 0, done.stderr
        targets = json.loads(done.stdout.strip().splitlines()[-1])
        return targets, _route(env)


@pytest.mark.parametrize(("extra", "host"), [
    ({"CLAUDE_CODE_USE_BEDROCK": "1", "AWS_REGION": "eu-west-1", **AWS}, "bedrock-runtime.eu-west-1.amazonaws.com"),
    ({"CLAUDE_CODE_USE_VERTEX": "1", "CLAUDE_CODE_SKIP_VERTEX_AUTH": "1", "ANTHROPIC_VERTEX_PROJECT_ID": "p",
      "CLOUD_ML_REGION": "global"}, "aiplatform.googleapis.com"),
    ({"CLAUDE_CODE_USE_VERTEX": "1", "CLAUDE_CODE_SKIP_VERTEX_AUTH": "1", "ANTHROPIC_VERTEX_PROJECT_ID": "p",
      "CLOUD_ML_REGION": "eu"}, "aiplatform.eu.rep.googleapis.com"),
    ({"CLAUDE_CODE_USE_VERTEX": "1", "CLAUDE_CODE_SKIP_VERTEX_AUTH": "1", "ANTHROPIC_VERTEX_PROJECT_ID": "p",
      "CLOUD_ML_REGION": "europe-west1"}, "europe-west1-aiplatform.googleapis.com"),
], ids=["bedrock-eu-west-1", "vertex-global", "vertex-eu", "vertex-europe-west1"])
def test_direct_cloud_host(extra: dict[str, str], host: str) -> None:
    """No base URL: the host the client tunnels to is the one the probes resolve and tunnel to."""
    seen, route = _direct(extra)
    targets = seen["client"]
    assert f"{host}:443" in targets, targets
    # gwdoctor's own probes, through the same proxy, tunnel to the same host and nowhere else.
    assert seen["probes"] and set(seen["probes"]) <= set(targets) | {f"{route['control']['host']}:443"
                                                                     if route.get("control") else ""}, seen
    assert route["host"] == host and route["port"] == 443 and route["scheme"] == "https"
    if "CLAUDE_CODE_USE_BEDROCK" in extra:
        # The AWS SDK's control-plane call goes to bedrock.<region>, not bedrock-runtime.
        assert "bedrock.eu-west-1.amazonaws.com:443" in targets
        assert route["control"]["host"] == "bedrock.eu-west-1.amazonaws.com"


CREDS_FILE = ("[claude]\naws_access_key_id = AKIAPROFILEKEY000001\naws_secret_access_key = profilesecret\n"
              "[default]\naws_access_key_id = AKIADEFAULTKEY000001\naws_secret_access_key = defaultsecret\n")
ENV_KEYS = {"AWS_ACCESS_KEY_ID": "AKIAENVKEY0000000001", "AWS_SECRET_ACCESS_KEY": "envsecret"}
EXPORT = {".claude/settings.json": json.dumps({"awsCredentialExport": "echo '{\"Credentials\":{\"AccessKeyId\":"
                                               "\"AKIAEXPORTKEY0000001\",\"SecretAccessKey\":\"s\",\"SessionToken\":\"t\"}}'"})}


def _with_files(extra: dict[str, str], files: dict[str, str], *, mode: str) -> tuple[Any, list[Any], dict[str, Any]]:
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
        env = _env(Path(tmp), {**{k: v.replace("{home}", tmp) for k, v in extra.items()}, base[0]: base[1]})
        done = _run_client(env)
        client = list(rec.exchanges)
        # A live scan (network probes on) against the same recorder: what gwdoctor signs with.
        out = subprocess.run([str(GWDOCTOR), "scan", "--format", "json", "--fail-on", "never", "--timeout", "3"],
                             env=env, capture_output=True, text=True, timeout=60, cwd=tmp)
        facts = json.loads(out.stdout)["facts"]
        facts["_probe_exchanges"] = rec.exchanges[len(client):]
    return done, client, facts


@pytest.mark.parametrize(("extra", "files", "key", "kind"), [
    ({**ENV_KEYS, "AWS_PROFILE": "claude"}, {".aws/credentials": CREDS_FILE}, "AKIAPROFILEKEY000001", "profile"),
    (ENV_KEYS, {".aws/credentials": CREDS_FILE}, "AKIAENVKEY0000000001", "env"),
    ({"AWS_PROFILE": "claude"}, {".aws/credentials": CREDS_FILE}, "AKIAPROFILEKEY000001", "profile"),
    (ENV_KEYS, EXPORT, "AKIAEXPORTKEY0000001", "settings_export"),
    ({**ENV_KEYS, "AWS_BEARER_TOKEN_BEDROCK": "bedrock-api-key-abc"}, EXPORT, "Bearer", "bearer_token"),
], ids=["profile-beats-env-when-AWS_PROFILE-set", "env-beats-default-profile", "profile-only",
        "credential-export-beats-env", "bearer-beats-export-and-env"])
def test_bedrock_credential_precedence(extra: dict[str, str], files: dict[str, str], key: str, kind: str) -> None:
    """Which credential signs the requests, and gwdoctor's provider.bedrock.credentials.kind."""
    done, seen, facts = _with_files({"CLAUDE_CODE_USE_BEDROCK": "1", "AWS_REGION": "us-east-1", **extra}, files,
                                    mode="bedrock")
    signed = {e.headers.get("authorization", "") for e in _posts(seen)}
    assert signed and all(key in a for a in signed), signed
    assert facts["provider.bedrock"]["credentials"]["kind"] == kind
    probe = {e.headers.get("authorization", "") for e in _posts(facts["_probe_exchanges"])}
    if kind == "settings_export":  # gwdoctor does not run the export command: nothing is sent
        assert not probe and all(c["checked"] is False for c in facts["provider.model_checks"])
    else:  # the probe signs with the same credential the client used
        assert probe and all(key in a for a in probe), probe


SA_FILE = json.dumps({"type": "service_account", "project_id": "sa-project", "private_key": "x",
                      "client_email": "a@sa-project.iam.gserviceaccount.com", "token_uri": "https://oauth2.googleapis.com/token"})


@pytest.mark.parametrize(("extra", "files", "project"), [
    ({"ANTHROPIC_VERTEX_PROJECT_ID": "anthropic-var", "GOOGLE_CLOUD_PROJECT": "gcp-var"}, {}, "anthropic-var"),
    ({"ANTHROPIC_VERTEX_PROJECT_ID": "anthropic-var", "GCLOUD_PROJECT": "gcloud-var"}, {}, "anthropic-var"),
    ({"ANTHROPIC_VERTEX_PROJECT_ID": "anthropic-var", "GOOGLE_APPLICATION_CREDENTIALS": "{home}/sa.json"},
     {"sa.json": SA_FILE}, "anthropic-var"),
    ({"GOOGLE_CLOUD_PROJECT": "gcp-var"}, {}, None),
    ({"GOOGLE_APPLICATION_CREDENTIALS": "{home}/sa.json"}, {"sa.json": SA_FILE}, None),
], ids=["own-var-beats-GOOGLE_CLOUD_PROJECT", "own-var-beats-GCLOUD_PROJECT", "own-var-beats-key-file",
        "GOOGLE_CLOUD_PROJECT-alone-is-not-read", "key-file-alone-is-not-read"])
def test_vertex_project_precedence(extra: dict[str, str], files: dict[str, str], project: str | None) -> None:
    """Under CLAUDE_CODE_SKIP_VERTEX_AUTH only ANTHROPIC_VERTEX_PROJECT_ID names the project in the
    path (the docs say the other variables override it); without it the client does not start."""
    done, seen, facts = _with_files({"CLAUDE_CODE_USE_VERTEX": "1", "CLAUDE_CODE_SKIP_VERTEX_AUTH": "1",
                                     "CLOUD_ML_REGION": "us-east5", **extra}, files, mode="vertex")
    used = {e.path.split("/projects/", 1)[1].split("/", 1)[0] for e in _posts(seen)}
    assert used == ({project} if project else set()), used
    if not project:
        assert "ANTHROPIC_VERTEX_PROJECT_ID" in done.stdout + done.stderr
    assert facts["provider.vertex"]["project_id"] == project


MANTLE = {"CLAUDE_CODE_USE_MANTLE": "1", "CLAUDE_CODE_SKIP_MANTLE_AUTH": "1", "AWS_REGION": "us-west-2"}


@pytest.mark.parametrize(("alias", "sent"), [(None, "anthropic.claude-opus-5-5"), ("sonnet", "anthropic.claude-sonnet-5"),
                                             ("haiku", "anthropic.claude-haiku-4-5")])
def test_mantle_gateway_route_and_probe(alias: str | None, sent: str) -> None:
    """Bedrock Mantle speaks the Anthropic Messages API under its base URL, with ``anthropic.<id>``
    in the body; gwdoctor's model probe posts the same path, query and model."""
    with Recorder() as rec, tempfile.TemporaryDirectory() as tmp:
        env = _env(Path(tmp), {**MANTLE, "ANTHROPIC_BEDROCK_MANTLE_BASE_URL": rec.url + "/mantle"})
        done = _run_client(env, alias)
        client = list(rec.exchanges)
        route = _route(env, alias)
        probe_env = {**env, **({"ANTHROPIC_MODEL": alias} if alias else {})}
        subprocess.run([str(GWDOCTOR), "scan", "--format", "json", "--fail-on", "never", "--timeout", "3"],
                       env=probe_env, capture_output=True, text=True, timeout=60, cwd=tmp)
        probe = rec.exchanges[len(client):]
    assert done.returncode == 0, done.stdout + done.stderr
    main = _posts(client)[0]
    assert (main.path, main.query, main.model) == ("/mantle/v1/messages", "beta=true", sent)
    assert route["requests"][0]["model"] == sent and route["requests"][0]["path"] == main.path
    assert any((e.path, e.query, e.model) == (main.path, main.query, sent) for e in _posts(probe)), \
        [(e.path, e.model) for e in probe]


def test_mantle_direct_host() -> None:
    seen, route = _direct({"CLAUDE_CODE_USE_MANTLE": "1", "CLAUDE_CODE_SKIP_MANTLE_AUTH": "1", "AWS_REGION": "us-west-2"})
    assert "bedrock-mantle.us-west-2.api.aws:443" in seen["client"], seen
    assert route["host"] == "bedrock-mantle.us-west-2.api.aws" and route["path"] == "/anthropic"
    assert seen["probes"] and set(seen["probes"]) <= set(seen["client"]), seen


@pytest.mark.parametrize("no_proxy", [None, "127.0.0.1"], ids=["through-proxy", "no-proxy-bypass"])
def test_proxy_rules_on_the_provider_route(no_proxy: str | None) -> None:
    """HTTPS_PROXY and NO_PROXY apply to the provider route's host as to a gateway's: the client
    sends its Bedrock requests through the proxy unless NO_PROXY covers the base URL's host, and
    proxy.route says the same."""
    from gwdoctor.probes._recorder import RecordingProxy

    fake = ProviderFake(require_auth=False, prefix="/bedrock")
    with Recorder(responder=fake.respond) as rec, RecordingProxy() as px, tempfile.TemporaryDirectory() as tmp:
        extra = {**BEDROCK_SKIP, "ANTHROPIC_BEDROCK_BASE_URL": rec.url + "/bedrock", "HTTPS_PROXY": px.url,
                 **({"NO_PROXY": no_proxy} if no_proxy else {})}
        env = _env(Path(tmp), extra)
        done = _run_client(env)
        out = subprocess.run([str(GWDOCTOR), "scan", "--offline", "--format", "json", "--fail-on", "never"],
                             env=env, capture_output=True, text=True, timeout=60, cwd=tmp)
        route = json.loads(out.stdout)["facts"]["proxy.route"]
    assert "Hello from fake upstream." in done.stdout, done.stdout + done.stderr
    proxied = [e for e in px.exchanges if "/model/" in (e.path or e.target)]
    assert bool(proxied) == (no_proxy is None), [(e.via, e.target) for e in px.exchanges]
    assert route["used"] is (no_proxy is None)


@pytest.mark.parametrize("extra_ca", [True, False], ids=["ca-given", "ca-missing"])
def test_tls_rules_on_the_provider_route(extra_ca: bool, tmp_path: Path) -> None:
    """An https:// Bedrock base URL with a private-CA certificate: the client needs the CA in
    NODE_EXTRA_CA_CERTS like for any gateway, and gwdoctor's TLS probe checks that host
    (TLS001 without the CA, no TLS finding with it)."""
    import ssl

    import trustme

    ca = trustme.CA()
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ca.issue_cert("localhost").configure_cert(ctx)
    ca_file = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    fake = ProviderFake(require_auth=False, prefix="/bedrock")
    with Recorder(responder=fake.respond, tls=ctx, host="127.0.0.1") as rec, tempfile.TemporaryDirectory() as tmp:
        base = f"https://localhost:{rec.port}/bedrock"
        env = _env(Path(tmp), {**BEDROCK_SKIP, "ANTHROPIC_BEDROCK_BASE_URL": base,
                               **({"NODE_EXTRA_CA_CERTS": str(ca_file)} if extra_ca else {})})
        done = _run_client(env)
        out = subprocess.run([str(GWDOCTOR), "scan", "--format", "json", "--fail-on", "never", "--timeout", "3"],
                             env=env, capture_output=True, text=True, timeout=60, cwd=tmp)
        report = json.loads(out.stdout)
    answered = "Hello from fake upstream." in done.stdout
    assert answered is extra_ca, done.stdout + done.stderr
    ids = [f["rule_id"] for f in report["findings"]]
    assert report["facts"]["tls.handshake"]["status"] == "ok"
    assert report["facts"]["tls.verify.client"]["trusted"] is extra_ca
    assert ("TLS001" in ids) is (not extra_ca) and (report["verdict"] == "healthy") is extra_ca, report["findings"]
