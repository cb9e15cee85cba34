"""How large the client's first request is, against the padded request of gwdoctor's model probe.

A hop with a body-size limit (nginx ``client_max_body_size``) refuses the client's request and
lets a small one through (Wei-Shaw/claude-relay-service#630). The model probe pads one request to
the size captured here (``print_first_request_bytes`` in knowledge/client.yaml) plus headroom, so
a limit that refuses the client refuses gwdoctor too, and one far above it does not.
"""

from __future__ import annotations

from typing import Any, Callable, Mapping

import pytest
import yaml
from _capture import REPO, VERSIONS, Capture, Case, predict_live
from gwdoctor.engine.knowledge import merge_behaviour
from gwdoctor.probes._recorder import Exchange

CASES = [Case("print-first-request", ("print_first_request_bytes",))]
# The padded request may exceed the client's by its headroom (probes/model.PAD_HEADROOM, 1.25:
# the user's CLAUDE.md, MCP tools and git status add to the client's), not by more.
MAX_OVER = 1.5


def client_bytes(cap: Capture) -> int:
    """The body size of the first Messages request the client sent."""
    return int(cap.messages[0].headers["content-length"])


def probe_bytes(sent: list[Exchange]) -> int:
    """The largest Messages request body gwdoctor sent (0 when it sent none)."""
    sizes = [
        int(e.headers.get("content-length") or 0)
        for e in sent
        if e.method == "POST" and e.path.endswith("/v1/messages")
    ]
    return max(sizes, default=0)


def agrees(cap: Capture, behaviour: Mapping[str, Any] | None = None) -> bool:
    """gwdoctor's largest request is at least the client's, and at most ``MAX_OVER`` times it."""
    _, sent = predict_live(cap, behaviour=behaviour)
    theirs = client_bytes(cap)
    return theirs <= probe_bytes(sent) <= theirs * MAX_OVER


@pytest.mark.client
@pytest.mark.parametrize("version", VERSIONS)
def test_gwdoctor_sends_a_request_as_large_as_the_client_does(
    version: str, captured: Callable[[Case, str], Capture]
) -> None:
    cap = captured(CASES[0], version)
    assert cap.rc == 0 and cap.messages, (cap.rc, cap.stderr[-300:])
    facts, sent = predict_live(cap)
    theirs, ours = client_bytes(cap), probe_bytes(sent)
    assert theirs <= ours <= theirs * MAX_OVER, f"{version}: client {theirs} bytes, gwdoctor {ours}"
    large = [c["large_request"] for c in facts["model.checks"] if c["large_request"]]
    assert len(large) == 1, "one model's request is padded (the main model's)"
    assert (
        large[0]["bytes"] == ours and large[0]["status"] == 200 and large[0]["unpadded"] is None
    ), large


@pytest.mark.client
@pytest.mark.parametrize("version", VERSIONS)
def test_the_captured_size_is_the_measured_one(
    version: str, captured: Callable[[Case, str], Capture]
) -> None:
    """Within 5 %: the system prompt names the OS release and paths, which differ by machine."""
    data = yaml.safe_load((REPO / "knowledge/client.yaml").read_text())
    known = merge_behaviour(data, version)["print_first_request_bytes"]
    measured = client_bytes(captured(CASES[0], version))
    assert abs(known - measured) <= 0.05 * measured, (
        f"{version}: knowledge {known}, client sent {measured}"
    )
