"""dns.gateway, dns.proxy and connect.gateway against the real system resolver and loopback
servers."""

from __future__ import annotations

import socket
import time

import pytest
from gwdoctor.engine import ProbeSkipped
from gwdoctor.engine.registry import builtin_rules
from gwdoctor.probes import dns as dns_probes
from gwdoctor.probes.dns import connect_gateway, resolve, resolve_gateway, resolve_proxy
from live._netctx import net_ctx
from live.network import UNRESOLVABLE_HOST

RULES = {r.id: r for r in builtin_rules()}


def test_ip_literal_is_not_resolved():
    assert resolve("127.0.0.1", 1.0)["status"] == "literal"
    assert resolve("[::1]", 1.0)["addresses"] == ["::1"]


def test_localhost_resolves_with_the_system_resolver():
    result = resolve("localhost", 3.0)
    assert result["status"] == "ok" and result["addresses"]


def test_invalid_tld_is_nxdomain_and_fires_dns001():
    ctx = net_ctx(f"https://{UNRESOLVABLE_HOST}")
    ctx.facts.update(resolve_gateway.run(ctx))
    assert ctx.facts["dns.gateway"]["status"] == "nxdomain"
    assert ctx.facts["dns.gateway"]["code"] == "ENOTFOUND"
    assert RULES["DNS001"].evaluate(ctx.facts)


def test_a_name_with_an_empty_label_is_nxdomain_not_a_resolver_failure():
    # "llm..corp.example": the IDNA codec refuses it; the client says ENOTFOUND (scenario
    # gateway-host-typo-empty-label), so DNS001, not DNS002, and the TLS probes do not crash.
    ctx = net_ctx("https://llm..corp.example")
    ctx.facts.update(resolve_gateway.run(ctx))
    assert ctx.facts["dns.gateway"]["status"] == "nxdomain"
    assert RULES["DNS001"].evaluate(ctx.facts) and not RULES["DNS002"].evaluate(ctx.facts)


def test_a_hung_resolver_costs_the_timeout_and_no_more(monkeypatch):
    def hang(*args, **kwargs):
        time.sleep(5)
        return []
    monkeypatch.setattr(dns_probes, "GETADDRINFO", hang)
    started = time.monotonic()
    result = resolve("slow.example", 0.3)
    assert result["status"] == "timeout"
    assert time.monotonic() - started < 1.0


def test_resolver_failure_is_not_nxdomain(monkeypatch):
    def fail(*args, **kwargs):
        raise socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution")
    monkeypatch.setattr(dns_probes, "GETADDRINFO", fail)
    ctx = net_ctx("https://gw.corp.example")
    ctx.facts.update(resolve_gateway.run(ctx))
    assert ctx.facts["dns.gateway"]["status"] == "failure"
    assert ctx.facts["dns.gateway"]["code"] == "EAI_AGAIN"
    assert RULES["DNS002"].evaluate(ctx.facts) and not RULES["DNS001"].evaluate(ctx.facts)


def test_gateway_behind_a_proxy_is_resolved_by_the_proxy():
    ctx = net_ctx(f"https://{UNRESOLVABLE_HOST}", {"HTTPS_PROXY": "http://127.0.0.1:3128"})
    ctx.facts.update(resolve_gateway.run(ctx))
    assert ctx.facts["dns.gateway"]["proxy_resolves"] is True
    assert not RULES["DNS001"].evaluate(ctx.facts)


def test_unresolvable_proxy_host_fires_dns003():
    ctx = net_ctx("https://gw.example.com",
                  {"HTTPS_PROXY": "http://proxy.gwdoctor-test.invalid:8080"})
    ctx.facts.update(resolve_proxy.run(ctx))
    assert ctx.facts["dns.proxy"]["status"] == "nxdomain"
    assert RULES["DNS003"].evaluate(ctx.facts)
    assert resolve_proxy.run(net_ctx("https://gw.example.com")) == {"dns.proxy": None}


def _connect(url: str, env: dict[str, str] | None = None) -> dict:
    ctx = net_ctx(url, env)
    ctx.facts.update(resolve_gateway.run(ctx))
    return connect_gateway.run(ctx)["connect.gateway"]


@pytest.mark.live
def test_direct_connect_ok_refused_and_via_proxy(plain_http_server, closed_port_number,
                                                 tarpit_server):
    assert _connect(plain_http_server.url("http"))["status"] == "ok"
    assert _connect(f"http://localhost:{plain_http_server.port}")["status"] == "ok"
    assert _connect(f"http://127.0.0.1:{closed_port_number}")["status"] == "refused"
    assert _connect(tarpit_server.url("http"))["status"] == "ok"  # TCP accepts; HTTP never answers
    proxied = _connect(plain_http_server.url("http"), {"HTTPS_PROXY": "http://127.0.0.1:1"})
    assert proxied["status"] == "skipped_via_proxy"


def test_connect_skips_when_the_name_does_not_resolve():
    ctx = net_ctx(f"https://{UNRESOLVABLE_HOST}")
    ctx.facts.update(resolve_gateway.run(ctx))
    with pytest.raises(ProbeSkipped):
        connect_gateway.run(ctx)
