"""Secrets are redacted whatever their characters and in whatever form a gateway echoes them."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Callable
from urllib.parse import quote, unquote

import pytest
from gwdoctor.engine.model import Options
from gwdoctor.engine.redact import scrub, secret_values
from gwdoctor.engine.scan import ScanRequest, run_scan


@pytest.mark.parametrize("password",
                         ["2024#Spring", "a/b/c-pw", "q?uery-pw", "p@ss:w0rd", "plain-pw"])
def test_proxy_and_base_url_passwords_never_reach_the_report(password: str, tmp_path: Path) -> None:
    env = {"PATH": "/usr/bin:/bin", "HTTPS_PROXY": f"http://jdoe:{password}@proxy.corp:8080",
           "ANTHROPIC_BASE_URL": f"http://gwuser:{password}x@gw.example:4000"}
    out = run_scan(ScanRequest(env=env, home=tmp_path, cwd=tmp_path, root=tmp_path,
                               options=Options(offline=True), load_plugins=False))
    text = json.dumps(out.report) + json.dumps(out.bundle)
    assert password not in text
    shown = json.dumps(out.report["facts"]["config.env"]["HTTPS_PROXY"])
    assert "***@proxy.corp:8080" in shown
    if not set(password) & set("#/?"):
        assert "jdoe:***@" in shown  # user names stay: they help diagnose


def test_scrubber_finds_a_password_urlsplit_cannot_see() -> None:
    secrets = secret_values({"HTTPS_PROXY": "http://u:2024#Spring@proxy:8080"})
    assert "2024#Spring" in secrets
    assert scrub({"k": ["see http://u:2024#Spring@proxy:8080"]}, secrets) == {
        "k": ["see http://u:[redacted]@proxy:8080"]}


# --- transformed echoes: what a gateway or proxy error body may send back -----------------

# '>>>' and '???' encode to '+' and '/' (std) or '-' and '_' (URL-safe); 25 bytes need '=='.
TOKEN = "tok>>>???~~~-secret-12345"
B64_ENCODERS = {"std": base64.b64encode, "urlsafe": base64.urlsafe_b64encode}


def b64(text: str, encoder: str = "std") -> str:
    return B64_ENCODERS[encoder](text.encode()).decode()


@pytest.mark.parametrize("encoder", B64_ENCODERS)
@pytest.mark.parametrize("padded", [True, False], ids=["padded", "unpadded"])
def test_base64_echo_of_a_token_is_scrubbed(encoder: str, padded: bool) -> None:
    blob = b64(TOKEN, encoder)
    assert blob.endswith("==")
    blob = blob if padded else blob.rstrip("=")
    secrets = secret_values({"ANTHROPIC_AUTH_TOKEN": TOKEN})
    facts = {"gateway.error": {"message": f"bad credential {blob}, check it"}}
    assert scrub(facts, secrets) == {
        "gateway.error": {"message": "bad credential [redacted], check it"}}


def test_base64_of_a_token_inside_a_longer_blob_is_scrubbed() -> None:
    secrets = secret_values({"ANTHROPIC_AUTH_TOKEN": TOKEN})
    for before in ("k:", "ke:", "key:"):  # each byte alignment of the token in the blob
        blob = b64(f'{before}{TOKEN}"}}')
        out = scrub(f"echo {blob} end", secrets)
        assert out.startswith("echo ") and out.endswith(" end") and "[redacted]" in out
        # What survives encodes the neighbours, plus at most one character each side
        # that mixes in a few bits of the token: nothing to recover it from.
        kept = out[len("echo "):-len(" end")].replace("[redacted]", "")
        assert len(kept) <= len(b64(before)) + len(b64('"}')) + 2, kept


@pytest.mark.parametrize("password", ["p@ss:w0rd-Canary", "Canary@pw:7f3e", "plain-pw"])
@pytest.mark.parametrize("header", ["Proxy-Authorization", "Authorization"])
def test_basic_auth_echo_of_url_credentials_is_scrubbed(password: str, header: str) -> None:
    url = f"http://jdoe:{quote(password, safe='')}@proxy.corp:3128"
    gateway = url.replace("proxy.corp:3128", "gw:4000")
    secrets = secret_values({"HTTPS_PROXY": url, "ANTHROPIC_BASE_URL": gateway})
    for encoder in B64_ENCODERS:
        padded = b64(f"jdoe:{password}", encoder)
        for blob in (padded, padded.rstrip("=")):
            body = f'{{"error": "407", "received": "{header}: Basic {blob}"}}'
            expected = f'{{"error": "407", "received": "{header}: Basic [redacted]"}}'
            assert scrub(body, secrets) == expected


def test_basic_auth_echo_of_a_password_with_unencoded_special_characters() -> None:
    secrets = secret_values({"HTTPS_PROXY": "http://u:2024#Spring@proxy:8080"})
    assert scrub(f"Basic {b64('u:2024#Spring')}", secrets) == "Basic [redacted]"


@pytest.mark.parametrize("echo", [str.lower, str.upper, str.swapcase])
def test_case_changed_echo_is_scrubbed(echo: Callable[[str], str]) -> None:
    token = "Gw-Token-9fA3kQ7z"
    secrets = secret_values({"ANTHROPIC_AUTH_TOKEN": token,
                             "HTTPS_PROXY": "http://u:Pr0xyPassW0rd@p:1"})
    text = f"key {echo(token)} and pw {echo('Pr0xyPassW0rd')} rejected"
    assert scrub(text, secrets) == "key [redacted] and pw [redacted] rejected"


@pytest.mark.parametrize("env, echoed", [
    ({"ANTHROPIC_API_KEY": "sk-ant-api03-" + "Zx9" * 10}, "Zx9" * 10),
    ({"ANTHROPIC_AUTH_TOKEN": "sk-gwdoctor-lab-master-4e1f"}, "gwdoctor-lab-master-4e1f"),
    ({"ANTHROPIC_AUTH_TOKEN": "Bearer opaque-token-77"}, "opaque-token-77"),
    ({"ANTHROPIC_CUSTOM_HEADERS": "Authorization: Bearer opaque-token-77"}, "opaque-token-77"),
    ({"ANTHROPIC_CUSTOM_HEADERS": "x-corp-key: sk-proj-" + "Q" * 20}, "Q" * 20),
])
def test_prefix_stripped_echo_is_scrubbed(env: dict[str, str], echoed: str) -> None:
    secrets = secret_values(env)
    assert scrub(f"invalid api key: '{echoed}'", secrets) == "invalid api key: '[redacted]'"


def test_a_short_key_body_is_not_a_secret_on_its_own() -> None:
    # "sk-test-key" is scrubbed whole, but its body "test-key" (< 16 chars) is an ordinary word.
    secrets = secret_values({"ANTHROPIC_API_KEY": "sk-test-key"})
    assert "test-key" not in secrets
    assert scrub("sk-test-key failed the test-key check", secrets) == (
        "[redacted] failed the test-key check")


@pytest.mark.parametrize("user", ["ghp_0123456789abcdefABCDEF", "tok%2Fen-with-slash-42",
                                  "tok#en-unencoded-7f3e"])
def test_a_user_name_without_password_is_a_secret(user: str) -> None:
    secrets = secret_values({"HTTPS_PROXY": f"http://{user}@proxy.corp:3128"})
    plain = unquote(user)
    assert {user, plain} <= set(secrets)
    text = f"via http://{user}@proxy.corp:3128 sent Proxy-Authorization: Basic {b64(plain + ':')}"
    assert scrub(text, secrets) == (
        "via http://[redacted]@proxy.corp:3128 sent Proxy-Authorization: Basic [redacted]")


def test_a_user_name_with_a_password_stays_visible() -> None:
    secrets = secret_values({"HTTPS_PROXY": "http://jdoe:hunter22@proxy.corp:3128"})
    assert "jdoe" not in secrets
    assert scrub("user jdoe at proxy.corp", secrets) == "user jdoe at proxy.corp"


def test_a_user_name_only_proxy_url_never_reaches_the_report(tmp_path: Path) -> None:
    token = "glpat-usernameToken0123"
    env = {"PATH": "/usr/bin:/bin", "HTTPS_PROXY": f"http://{token}@proxy.corp:8080"}
    out = run_scan(ScanRequest(env=env, home=tmp_path, cwd=tmp_path, root=tmp_path,
                               options=Options(offline=True), load_plugins=False))
    text = json.dumps(out.report) + json.dumps(out.bundle)
    assert token not in text and token.lower() not in text
    assert "@proxy.corp:8080" in json.dumps(out.report["facts"]["config.env"]["HTTPS_PROXY"])


def test_a_percent_encoded_echo_is_scrubbed() -> None:
    secrets = secret_values({"ANTHROPIC_AUTH_TOKEN": "tok@en/with:chars"})
    assert scrub("GET /?key=tok%40en%2Fwith%3Achars", secrets) == "GET /?key=[redacted]"


def test_a_slash_kept_by_default_percent_encoding_is_scrubbed() -> None:
    token = "sk-ant-api03-Ab1+/Cd2+EfGh3456789"
    secrets = secret_values({"ANTHROPIC_AUTH_TOKEN": token})
    assert scrub("key=sk-ant-api03-Ab1%2B/Cd2%2BEfGh3456789 rejected", secrets) == (
        "key=[redacted] rejected")


# --- what must not be scrubbed ---------------------------------------------------------

def test_short_values_are_not_scrubbed_in_any_form() -> None:
    secrets = secret_values({"ANTHROPIC_AUTH_TOKEN": "abc", "HTTPS_PROXY": "http://u:p@proxy:8080"})
    assert secrets == []
    text = f"abc p ABC {b64('abc')} {b64('u:p')}"
    assert scrub(text, secrets) == text


def test_the_basic_blob_of_a_short_password_is_scrubbed() -> None:
    # "pw" alone would mangle reports; "jdoe:pw" in base64 mangles nothing and reveals "pw".
    secrets = secret_values({"HTTPS_PROXY": "http://jdoe:pw@proxy:8080"})
    assert "pw" not in secrets
    assert scrub(f"pw Basic {b64('jdoe:pw')}", secrets) == "pw Basic [redacted]"


def test_a_short_secret_is_matched_only_in_its_own_case() -> None:
    # A 7-character password that is also a word: "Gateway" in a message must survive.
    secrets = secret_values({"HTTPS_PROXY": "http://jdoe:gateway@proxy:8080"})
    assert scrub("Gateway said: gateway", secrets) == "Gateway said: [redacted]"


def test_ordinary_report_text_is_unchanged() -> None:
    env = {"ANTHROPIC_AUTH_TOKEN": "sk-ant-api03-" + "Zx9" * 10,
           "HTTPS_PROXY": "http://jdoe:Pr0xyPassW0rd@proxy.corp:3128",
           "ANTHROPIC_CUSTOM_HEADERS": "x-corp-key: hdr-value-123456",
           "NO_PROXY": "localhost,127.0.0.1"}
    secrets = secret_values(env)
    text = ("Gateway https://gw.corp.example answered 401 through proxy.corp:3128 (user jdoe). "
            "Proxy-Authorization: Basic was sent; Bearer token rejected: invalid x-api-key. "
            "NO_PROXY=localhost,127.0.0.1 SK-ANT prefix ok, eyJhbGciOiJIUzI1NiJ9 base64 ok.")
    assert scrub(text, secrets) == text
    assert scrub({"n": 1, "ok": True, "none": None}, secrets) == {"n": 1, "ok": True, "none": None}


def test_a_secret_with_a_lone_surrogate_does_not_break_the_scan() -> None:
    secrets = secret_values({"ANTHROPIC_AUTH_TOKEN": "tok\udcffen-secret"})
    assert scrub("x tok\udcffen-secret y", secrets) == "x [redacted] y"


@pytest.mark.parametrize("env", [
    {"DOCKER_HOST": "ssh://ubuntu@10.0.0.5"},
    {"DATABASE_URL": "postgres://postgres@localhost:5432/app"},
    {"HTTPS_PROXY": "http://alice@proxy.corp:3128"},          # a login name, not a token
    {"HTTPS_PROXY": "http://user:@proxy.corp:3128"},          # "user:" names a user
])
def test_login_names_in_urls_are_not_secrets(env: dict[str, str]) -> None:
    secrets = secret_values(env)
    text = ("/home/ubuntu/.claude/settings.json: PostgreSQL at localhost; user postgres; "
            "alice's user settings")
    assert scrub(text, secrets) == text


def test_an_at_sign_outside_a_url_authority_scrubs_nothing() -> None:
    secrets = secret_values(
        {"NPM_CONFIG_TOKEN_REGISTRY": "@myorg:registry=https://npm.pkg.github.com"})
    assert scrub("fetch npm.pkg.github.com failed", secrets) == "fetch npm.pkg.github.com failed"


def test_scrub_returns_the_object_itself_when_no_secret_occurs() -> None:
    report = {"a": ["plain", {"b": "text"}]}
    secrets = secret_values({"ANTHROPIC_AUTH_TOKEN": "sk-ant-api03-notPresentAnywhere0001"})
    assert scrub(report, secrets) is report

