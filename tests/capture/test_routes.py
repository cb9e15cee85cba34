"""Which requests the real client sends through the proxy, per proxy and NO_PROXY form, against
gwdoctor's ``proxy.route``. The recording proxy relays to the recorder, so the client succeeds
either way and only the path its request took differs."""

from __future__ import annotations

from typing import Callable

import pytest
from _capture import Capture, Case, predict

P = {"HTTPS_PROXY": "{proxy}"}
CASES = [
    Case("https-proxy-carries-an-http-base-url", ("proxy_for_http_base_url",), env=P),
    Case("no-proxy-exact-ip", ("no_proxy_honoured",), env={**P, "NO_PROXY": "127.0.0.1"}),
    Case("no-proxy-lowercase", ("no_proxy_honoured",), env={**P, "no_proxy": "127.0.0.1"}),
    Case("no-proxy-localhost-does-not-cover-the-ip", (), env={**P, "NO_PROXY": "localhost"}),
    Case("no-proxy-cidr-covers-an-ip-literal", ("no_proxy_cidr_matches_ip_literals",),
         env={**P, "NO_PROXY": "127.0.0.0/8"}),
    Case("no-proxy-cidr-does-not-cover-a-name", (), env={**P, "NO_PROXY": "127.0.0.0/8"},
         base_host="localhost"),
    Case("no-proxy-star", ("no_proxy_honoured",), env={**P, "NO_PROXY": "*"}),
    Case("empty-lowercase-proxy-does-not-mask", ("empty_proxy_variable_masks",),
         env={"https_proxy": "", "HTTPS_PROXY": "{proxy}"}),
    Case("proxy-in-settings-env", ("proxy_for_http_base_url",),
         user_settings={"env": {"HTTPS_PROXY": "{proxy}"}}),
]



def went_through_proxy(cap: Capture) -> bool:
    port = cap.values["recorder_port"]
    return any(port in e.target and e.path.endswith("/v1/messages") or
               (e.via == "connect" and e.target.endswith(":" + port)) for e in cap.proxied)


@pytest.mark.client
@pytest.mark.parametrize("version", ["2.1.332", "2.1.197"])
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_gwdoctor_predicts_the_proxy_route(case: Case, version: str,
                                           captured: Callable[[Case, str], Capture]) -> None:
    cap = captured(case, version)
    assert cap.rc == 0, (cap.stdout[-300:], cap.stderr[-300:])
    facts = predict(cap)
    route = facts["proxy.route"]
    assert bool(route["used"]) == went_through_proxy(cap), (
        f"{version} {case.id}: client {'via proxy' if went_through_proxy(cap) else 'direct'}, "
        f"gwdoctor says used={route['used']} ({route.get('reason')})")
