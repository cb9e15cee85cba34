"""What the real client does with an apiKeyHelper's output, against gwdoctor's prediction
(``config.api_key_helper``): which outputs become the credential it sends. Captured: both pinned
versions refuse output of more than one line (2.1.197 sends no request, "Invalid API key";
2.1.332 sends an empty credential, "returned output that cannot be used as an API key")."""

from __future__ import annotations

from typing import Any, Callable

import pytest
from _capture import Capture, Case, predict

KEY = "sk-helper-key-1"
H = {"ANTHROPIC_AUTH_TOKEN": None}
CASES = [
    Case("helper-one-line", ("api_key_helper_strict_output",), env=H,
         user_settings={"apiKeyHelper": f"echo {KEY}"}),
    Case("helper-banner-then-key", ("api_key_helper_strict_output",), env=H,
         user_settings={"apiKeyHelper": f"printf 'Welcome to corp\\n{KEY}\\n'"}),
    Case("helper-trailing-blank-line", (), env=H,
         user_settings={"apiKeyHelper": f"printf '{KEY}\\n\\n'"}),
    Case("helper-padded", (), env=H, user_settings={"apiKeyHelper": f"echo '  {KEY}  '"}),
    Case("helper-fails", (), env=H, user_settings={"apiKeyHelper": "echo broken >&2; exit 3"}),
]



def client_sent_the_key(cap: Capture) -> bool:
    return any(KEY in e.headers.get("authorization", "") for e in cap.messages)


def predicts_the_key_is_sent(facts: dict[str, Any]) -> bool:
    """gwdoctor's reading: a single-token output is sent; a multi-line one is sent whole only by
    a version that is not strict about it."""
    helper = facts.get("config.api_key_helper") or {}
    return bool(helper.get("usable")) or (
        not helper.get("strict") and helper.get("output_shape") == "multiline"
        and helper.get("exit_code") == 0)


@pytest.mark.client
@pytest.mark.parametrize("version", ["2.1.332", "2.1.197"])
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_gwdoctor_predicts_what_the_client_does_with_helper_output(
        case: Case, version: str, captured: Callable[[Case, str], Capture]) -> None:
    cap = captured(case, version)
    facts = predict(cap)
    assert predicts_the_key_is_sent(facts) == client_sent_the_key(cap), (
        f"{version} {case.id}: client sent the key: {client_sent_the_key(cap)} "
        f"({(cap.stdout + cap.stderr).strip()[-160:]!r}); "
        f"gwdoctor: {facts.get('config.api_key_helper')}")
