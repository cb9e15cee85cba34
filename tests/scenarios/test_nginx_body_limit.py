"""The body-size limit in front of a gateway, with the real parts: Debian's nginx (``_nginx.py``)
with a small ``client_max_body_size`` in front of the lab LiteLLM.

- nginx's 413 page is the ``seen`` body of ``http.body_too_large`` in knowledge/faults.yaml, and
  the classifier names it;
- the model probe's padding (JSON whitespace) passes a real LiteLLM, which re-serializes it: its
  upstream gets a small body, so the padding costs no tokens;
- the model probe, through nginx, records the padded refusal and the unpadded answer, and GWY014
  fires on them, while a front with nginx's default 1 MB limit stays quiet.
"""

from __future__ import annotations

import re
from typing import Any, Iterator

import httpx
import pytest
from _nginx import Nginx, start_nginx
from gwdoctor.engine.knowledge import merge_behaviour, read_builtin
from gwdoctor.probes._envelope import excerpt, parse_error
from gwdoctor.probes.faults import classify
from gwdoctor.probes.model import _body, _encode, model_messages, pad_size
from live._ctx import fire, gateway_ctx

MODEL = "claude-sonnet-4-5"  # a lab model of LiteLLM (tests/live/_litellm.LAB_MODELS)
# What the probe sends for 2.1.332 (gateway_ctx's version): its captured 49,268 bytes plus a
# quarter.
PADDED = pad_size(merge_behaviour(read_builtin("client.yaml"), "2.1.332"))


@pytest.fixture
def front(request: pytest.FixtureRequest, litellm_gateway: Any) -> Iterator[Nginx]:
    """A real nginx in front of the lab LiteLLM with ``client_max_body_size`` from the param."""
    nginx = start_nginx(litellm_gateway.port, getattr(request, "param", "16k"))
    yield nginx
    nginx.stop()


def _post(url: str, key: str, body: bytes) -> httpx.Response:
    headers = {
        "authorization": f"Bearer {key}",
        "anthropic-version": "2023-06-01",
        "content-type": "application/json",
    }
    with httpx.Client(trust_env=False, timeout=30) as client:
        response = client.post(f"{url}/v1/messages?beta=true", headers=headers, content=body)
        response.read()
        return response


def _catalogued() -> dict[str, Any]:
    entry = next(
        f for f in read_builtin("faults.yaml")["faults"] if f["id"] == "http.body_too_large"
    )
    return dict(entry["seen"][0])


@pytest.mark.live
def test_real_nginx_refuses_the_padded_request_with_the_catalogued_page(
    front: Nginx, litellm_gateway: Any
) -> None:
    response = _post(front.url, litellm_gateway.master_key, _encode(_body(MODEL), PADDED))
    seen = _catalogued()
    assert response.status_code == seen["status"] == 413
    # The page names nginx's version; the catalogue holds Debian 12's (1.22.1).
    assert re.sub(r"nginx/[\d.]+", "nginx/1.22.1", response.text) == seen["body"]
    error_type, message = parse_error(response.content)
    recorded = {
        "status": response.status_code,
        "error_type": error_type,
        "error_message": message,
        "body_excerpt": excerpt(response.content, response.headers.get("content-type")),
    }
    assert classify(recorded) == ["http.body_too_large"]
    assert _post(front.url, litellm_gateway.master_key, _encode(_body(MODEL))).status_code == 200


@pytest.mark.live
@pytest.mark.parametrize("front", ["1m"], indirect=True)
def test_whitespace_padding_passes_litellm_and_costs_its_upstream_nothing(
    front: Nginx, litellm_gateway: Any, fake_upstream: Any
) -> None:
    body = _encode(_body(MODEL), PADDED)
    assert len(body) == PADDED and body.startswith(b"{   ")
    before = len(fake_upstream.requests)
    response = _post(front.url, litellm_gateway.master_key, body)
    assert response.status_code == 200 and "message_stop" in response.text, response.text[:300]
    upstream = fake_upstream.requests[before:]
    assert upstream, "LiteLLM did not call its upstream"
    # LiteLLM parsed the body and sent its own: the spaces never reach the provider.
    sizes = [
        int(next(v for k, v in r.headers.items() if k.lower() == "content-length"))
        for r in upstream
    ]
    assert all(0 < n < 2_000 for n in sizes), sizes


@pytest.mark.live
def test_the_model_probe_through_nginx_confirms_the_limit_and_gwy014_fires(
    front: Nginx, litellm_gateway: Any
) -> None:
    ctx = gateway_ctx(front.url, token=litellm_gateway.master_key, models={"main": MODEL})
    facts = {**ctx.facts, **model_messages.run(ctx)}
    check = facts["model.checks"][0]
    assert check["status"] == 200 and check["sse"]["complete"], check  # judged on the small request
    large = check["large_request"]
    assert large["bytes"] == PADDED and large["status"] == 413, large
    assert large["unpadded"]["status"] == 200 and large["unpadded"]["complete"]
    findings = fire(facts, "GWY014")
    assert len(findings) == 1
    assert f"refuses a {PADDED:,}-byte request with HTTP 413" in findings[0].message
    assert findings[0].evidence["padded"]["faults"] == ["http.body_too_large"]


@pytest.mark.live
@pytest.mark.parametrize("front", ["1m"], indirect=True)
def test_nginx_with_its_default_limit_passes_the_padded_request(
    front: Nginx, litellm_gateway: Any
) -> None:
    ctx = gateway_ctx(front.url, token=litellm_gateway.master_key, models={"main": MODEL})
    facts = {**ctx.facts, **model_messages.run(ctx)}
    large = facts["model.checks"][0]["large_request"]
    assert large["status"] == 200 and large["complete"] and large["unpadded"] is None, large
    assert not fire(facts, "GWY014")
