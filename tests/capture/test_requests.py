"""What the real client puts on the wire (path, query, headers per credential variable) against
what gwdoctor's own model probe sends to the same recorder. gwdoctor must ask the gateway exactly
what the client will ask, or a gateway that treats the two differently fools it."""

from __future__ import annotations

from typing import Callable

import pytest
from _capture import Capture, Case, predict_live

WIRE = ("beta_headers", "messages_path", "user_agent_print_mode")
CASES = [
    Case("token", WIRE),
    Case("api-key-only", WIRE,
         env={"ANTHROPIC_AUTH_TOKEN": None, "ANTHROPIC_API_KEY": "sk-capture-key-77"}),
    Case("token-and-api-key", WIRE, env={"ANTHROPIC_API_KEY": "sk-capture-key-77"}),
    Case("custom-headers", WIRE, env={"ANTHROPIC_CUSTOM_HEADERS": "X-Team: infra\nX-Route: blue"}),
    Case("api-key-helper", WIRE, env={"ANTHROPIC_AUTH_TOKEN": None},
         user_settings={"apiKeyHelper": "echo sk-capture-helper-31"}),
]
# Headers whose values must match the client's exactly (the rest are per process: session id,
# runtime versions, retry count).
SAME = ("authorization", "x-api-key", "anthropic-version", "anthropic-beta", "x-app", "user-agent",
        "x-team", "x-route", "content-type")



@pytest.mark.client
@pytest.mark.parametrize("version", ["2.1.332", "2.1.197"])
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_gwdoctor_sends_what_the_client_sends(case: Case, version: str,
                                              captured: Callable[[Case, str], Capture]) -> None:
    cap = captured(case, version)
    assert cap.rc == 0 and cap.messages, (cap.rc, cap.stdout[-300:], cap.stderr[-300:])
    client = cap.messages[-1]
    facts, sent = predict_live(cap)
    ours = [e for e in sent if e.method == "POST" and e.path.endswith("/v1/messages")]
    assert ours, f"gwdoctor sent no Messages request: {[(e.method, e.path) for e in sent]}"
    mine = ours[0]
    assert (mine.path, mine.query) == (client.path, client.query)
    for name in SAME:
        assert mine.headers.get(name) == client.headers.get(name), (
            f"{version} {case.id}: header {name}: client {client.headers.get(name)!r}, "
            f"gwdoctor {mine.headers.get(name)!r}")
    assert facts["model.checks"], "the model probe recorded nothing"


NONESSENTIAL = Case("nonessential-traffic-allowed", (),
                    env={"CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": None})


@pytest.mark.client
@pytest.mark.parametrize("version", ["2.1.332", "2.1.197"])
@pytest.mark.parametrize("case", [CASES[0], NONESSENTIAL], ids=lambda c: c.id)
def test_print_mode_needs_only_the_messages_route(case: Case, version: str,
                                                  captured: Callable[[Case, str], Capture]) -> None:
    """Everything `claude -p` sends besides a HEAD connectivity check (2.1.332: HEAD /api/hello
    unless nonessential traffic is off; 2.1.197: HEAD / always) is the Messages request gwdoctor
    probes: no count_tokens, no /v1/models. A gateway without those routes serves -p."""
    cap = captured(case, version)
    assert cap.rc == 0, cap.stderr[-300:]
    facts, _ = predict_live(cap, probes=("client.version",))
    path, _, query = str(facts["client.behaviour"]["messages_path"]).partition("?")
    other = [(e.method, e.path, e.query) for e in cap.exchanges if e.method != "HEAD"]
    assert other and set(other) == {("POST", path, query)}, other
    heads = {e.path for e in cap.exchanges if e.method == "HEAD"}
    assert heads <= {"/", "/api/hello"}, heads
