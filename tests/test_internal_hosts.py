"""One notion of an internal host: `gwdoctor generate proxy` bypasses the proxy for exactly the
hosts rule PRX010 calls internal (both read knowledge/hosts.yaml through one function)."""

from __future__ import annotations

import json

import pytest
from gwdoctor.setup import generator as gen

HOSTS = ["litellm.internal", "gw.corp", "Gateway.Corp.", "litellm", "build.intra", "nas.home.arpa",
         "printer.local", "10.1.2.3", "172.20.0.5", "192.168.1.10", "127.0.0.1", "[::1]",
         "fe80::1", "fd12:3456::1", "169.254.169.254", "203.0.113.7",
         "gw.example.com", "api.anthropic.com", "8.8.8.8", "100.64.0.1", "2606:4700::1111",
         "corp.example.com", "internal.example.com"]


@pytest.mark.parametrize("host", HOSTS)
def test_generate_proxy_and_prx010_agree_on_internal_hosts(host: str) -> None:
    """`generate proxy` bypasses the proxy for exactly the hosts rule PRX010 calls internal."""
    from gwdoctor.rules._netfix import is_internal
    from gwdoctor.setup._data import is_internal_host

    assert is_internal_host(host) == is_internal(host), host
    url = f"http://{host if ':' not in host.strip('[]') else '[' + host.strip('[]') + ']'}:4000"
    env = json.loads(gen.generate("proxy", {"proxy_url": "http://proxy.corp:3128",
                                            "gateway_url": url})["settings.json"])["env"]
    bypassed = env["NO_PROXY"] != "localhost,127.0.0.1,::1"
    loopback = host.strip("[]") in ("127.0.0.1", "::1")
    assert bypassed == (is_internal(host) and not loopback), (host, env["NO_PROXY"])


def test_internal_hosts() -> None:
    from gwdoctor.setup._data import is_internal_host

    internal = {h for h in HOSTS if is_internal_host(h)}
    assert internal == set(HOSTS[:16]), internal
    assert not is_internal_host("")
