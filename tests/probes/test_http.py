"""probes/_http.py: the route helper other probes build on (MockTransport units plus real
failures)."""

from __future__ import annotations

import socket
import time

import httpx
import pytest
from gwdoctor.probes._http import (
    classify_transport_error,
    client_for,
    proxy_url_for_httpx,
    read_capped,
    read_capped_info,
)
from live._netctx import net_ctx


def test_transport_sees_every_request_even_with_a_proxy_route():
    seen = []
    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        return httpx.Response(200, content=b"x" * 5000)
    ctx = net_ctx("https://gw.example.com", {"HTTPS_PROXY": "http://u:pw@proxy:8080"})
    ctx.transport = httpx.MockTransport(handler)
    with client_for(ctx) as client, \
            client.stream("GET", "https://gw.example.com/v1/models") as response:
        body, truncated = read_capped_info(response, 1000)
    assert seen == ["https://gw.example.com/v1/models"]
    assert len(body) == 1000 and truncated
    assert client.follow_redirects is False and client.trust_env is False


def test_read_capped_on_a_read_response():
    response = httpx.Response(200, content=b"abc")
    assert read_capped(response, 2) == b"ab"


def test_proxy_url_as_undici_uses_it():
    assert proxy_url_for_httpx("proxy:3128") == "http://proxy:3128"
    assert proxy_url_for_httpx("http://u%40corp:p%2Fw@proxy:1") == "http://u%40corp:p%2Fw@proxy:1"
    assert proxy_url_for_httpx("http://user@proxy:1") == "http://proxy:1"
    assert proxy_url_for_httpx("socks5://proxy:1") is None


@pytest.mark.parametrize(("exc", "expected"), [
    (httpx.ConnectTimeout("t"), "timeout"),
    (httpx.ProxyError("407 Proxy Authentication Required"), "proxy"),
    (httpx.RemoteProtocolError("Server disconnected without sending a response."), "reset"),
    (httpx.RemoteProtocolError("illegal status line"), "protocol"),
])
def test_classify_synthetic(exc, expected):
    assert classify_transport_error(exc) == expected


def _fail(url: str, timeout: float = 2.0) -> str:
    with client_for(net_ctx(url, timeout=timeout)) as client:
        with pytest.raises(httpx.TransportError) as err:
            client.get(url)
    return classify_transport_error(err.value)


@pytest.mark.live
def test_classify_real_failures(closed_port_number, tarpit_server):
    assert _fail(f"http://127.0.0.1:{closed_port_number}/") == "refused"
    assert _fail("http://gw.gwdoctor-test.invalid/") == "dns"
    started = time.monotonic()
    assert _fail(tarpit_server.url("http") + "/", timeout=0.5) == "timeout"
    assert time.monotonic() - started < 2.0


def test_classify_gaierror_chain():
    try:
        try:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        except socket.gaierror as inner:
            raise httpx.ConnectError("[Errno -2] Name or service not known") from inner
    except httpx.ConnectError as exc:
        assert classify_transport_error(exc) == "dns"
