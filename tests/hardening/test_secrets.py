"""Secrets a hostile gateway echoes back in a disguise, or a proxy URL hides, never reach any
output."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest
from gwdoctor.engine.redact import scrub, secret_values

from ._hostile import json_error, respond, serve
from ._outputs import scan_outputs

# Its first 6 characters have no letters, so a case-sensitive replace of the prefix still
# fits an upper-cased echo and leaves the other 26 behind (the case).
TOKEN = "2026-1206-Q7x9Lm2Pz4Rt8Vb1Nc5Kd3"
assert len(TOKEN) == 32


def _runs(text: str, secret: str, size: int = 8) -> list[str]:
    """Every run of ``size`` characters of ``secret`` (any case) that occurs in ``text``."""
    low, sec = text.lower(), secret.lower()
    return [sec[i:i + size] for i in range(len(sec) - size + 1) if sec[i:i + size] in low]


def _gateway_env(port: int, home: Path) -> dict[str, str]:
    return {"PATH": "/usr/bin:/bin", "HOME": str(home), "NO_PROXY": "*",
            "ANTHROPIC_BASE_URL": f"http://127.0.0.1:{port}", "ANTHROPIC_AUTH_TOKEN": TOKEN}


@pytest.mark.parametrize("echo", [
    pytest.param(f"invalid key {TOKEN.upper()}", id="upper-cased"),
    pytest.param(f"invalid key {TOKEN.lower()}", id="lower-cased"),
    pytest.param("x" * 275 + " key " + TOKEN, id="cut-by-the-excerpt-limit"),  # 19 shown
    pytest.param(f"key {TOKEN[:19]}... is not valid", id="prefix-only"),
    pytest.param(f"key ...{TOKEN[-20:].upper()} is not valid", id="suffix-upper"),
])
def test_an_echoed_token_in_an_error_body_reaches_no_output(echo: str, tmp_path: Path) -> None:
    body = {"error": {"type": "authentication_error", "message": echo}}
    with serve(json_error("401 Unauthorized", body)) as port:
        outputs = scan_outputs(_gateway_env(port, tmp_path), tmp_path, no_inference=True)
    assert "authentication_error" in outputs["json"]  # the body was read and reported
    for name, text in outputs.items():
        assert not _runs(text, TOKEN), f"{name} shows part of the token: {_runs(text, TOKEN)}"


def _sse_gateway(event_type: str):
    def handler(conn: socket.socket, head: bytes) -> None:
        if head.startswith(b"GET /v1/models"):
            respond(conn, "200 OK", {"content-type": "application/json"},
                    json.dumps({"data": [{"id": "claude-sonnet-4-5"}]}).encode())
        elif head.startswith(b"POST /v1/messages"):
            data = json.dumps({"type": "error", "error": {"type": event_type, "message": "nope"}})
            respond(conn, "200 OK", {"content-type": "text/event-stream"},
                    f"event: error\ndata: {data}\n\n".encode())
        else:
            respond(conn, "404 Not Found", {"content-type": "text/plain"}, b"not here")
    return handler


def test_an_sse_error_type_holding_the_token_is_scrubbed(tmp_path: Path) -> None:
    with serve(_sse_gateway(TOKEN[:24])) as port:
        outputs = scan_outputs(_gateway_env(port, tmp_path), tmp_path)
    assert '"error_type"' in outputs["facts"]
    for name, text in outputs.items():
        assert not _runs(text, TOKEN), f"{name} shows part of the token: {_runs(text, TOKEN)}"


@pytest.mark.parametrize("url,secret", [
    ("http://bob:p@ss#CANARYsecret@proxy.corp:3128", "CANARYsecret"),
    ("http://bob:p@ss/CANARYsecret@proxy.corp:3128", "CANARYsecret"),
    ("http://bob:p@ss:CANARYsecret@proxy.corp:3128", "CANARYsecret"),
    ("http://bob:p@ss?CANARYsecret@proxy.corp:3128", "CANARYsecret"),
    ("http://b@o@b:pw@x#CANARYsecret@y@proxy.corp:3128", "CANARYsecret"),
])
def test_a_proxy_password_with_an_unencoded_at_never_shows(url: str, secret: str,
                                                           tmp_path: Path) -> None:
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "HTTPS_PROXY": url,
           "ANTHROPIC_BASE_URL": "https://gw.example.invalid"}
    outputs = scan_outputs(env, tmp_path, offline=True)
    for name, text in outputs.items():
        assert secret not in text, f"{name} shows the password"
    facts = json.loads(outputs["facts"])["facts"]
    assert "proxy.corp" in json.dumps(facts["config.env"]["HTTPS_PROXY"])  # still diagnosable


def test_whatwg_split_and_the_intended_password_are_both_secrets() -> None:
    # WHATWG ends the authority at '#': user "bob", password "p", host "ss". The user meant
    # "p@ss#CANARYsecret"; both readings are scrubbed, and the piece after the '#' alone.
    found = secret_values({"HTTPS_PROXY": "http://bob:p@ss#CANARYsecret@proxy.corp:3128"})
    assert {"p@ss#CANARYsecret", "CANARYsecret"} <= set(found)
    out = scrub("see ss#CANARYsecret@proxy", found)
    assert "CANARY" not in out and out.endswith("[redacted]@proxy")


def test_a_word_at_the_start_of_a_hand_made_key_is_not_scrubbed_on_its_own() -> None:
    found = secret_values({"ANTHROPIC_AUTH_TOKEN": "sk-gwdoctor-lab-master-4e1f"})
    assert scrub("gwdoctor 0.1.0", found) == "gwdoctor 0.1.0"
    assert scrub("key gwdoctor-lab-mas", found) == "key [redacted]"


def test_a_path_valued_secret_keeps_its_prefixes_in_other_paths() -> None:
    found = secret_values({"AWS_SHARED_CREDENTIALS_FILE": "/home/developer/.aws/credentials"})
    assert scrub("/home/developer/.claude/settings.json", found) == \
        "/home/developer/.claude/settings.json"
