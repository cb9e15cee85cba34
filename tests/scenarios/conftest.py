"""Scenario fixtures: turn a scenario's `parts` list into running real servers and their
addresses."""

from __future__ import annotations

from typing import Any, Iterator

import _parts_background  # noqa: F401  registers gw:haiku_400 and gw:haiku_403
import _parts_litellm_broken  # noqa: F401  registers gw:litellm_no_provider
import _parts_provider  # noqa: F401  registers gw:litellm_provider
import pytest
from _harness import TlsRelay
from _nginx import start_nginx
from _parts import SCENARIO_GATEWAY_MODES, start_ntlm_squid, start_scenario_gateway
from live._squid import Squid


@pytest.fixture(scope="session")
def squid_ntlm() -> Iterator[Squid]:
    """A real squid that answers 407 offering only Negotiate and NTLM (a Windows-domain proxy)."""
    proxy = start_ntlm_squid()
    yield proxy
    proxy.stop()


@pytest.fixture
def parts(request: pytest.FixtureRequest) -> Iterator[Any]:
    relays: list[TlsRelay] = []
    scenario_gateways: list[Any] = []
    fronts: list[Any] = []

    def resolve(names: list[str]) -> dict[str, str]:
        values: dict[str, str] = {}
        for name in names:
            kind, _, arg = name.partition(":")
            if kind == "litellm":
                gw = request.getfixturevalue("litellm_gateway")
                values.update({"litellm.url": gw.url, "litellm.key": gw.master_key,
                               "litellm.port": str(gw.port)})
            elif kind == "litellm_default":  # serves only the default session's models
                gw = request.getfixturevalue("litellm_default_session")
                values.update({"litellm_default.url": gw.url, "litellm_default.key": gw.master_key})
            elif kind == "fake":
                up = request.getfixturevalue("fake_upstream")
                values.update({"fake.url": up.url, "fake.port": str(up.port)})
            elif kind == "gw":  # gw:<mode> a fake gateway playing a broken one
                if arg in SCENARIO_GATEWAY_MODES:  # modes only scenarios need (_parts.py)
                    fake = start_scenario_gateway(arg)
                    scenario_gateways.append(fake)
                else:
                    factory = request.getfixturevalue("fake_gateway")
                    fake = factory(arg, **({"key": "sk-right-key"} if arg == "auth" else {}))
                values.update({f"gw.{arg}.url": fake.url, f"gw.{arg}.port": str(fake.port),
                               f"gw.{arg}.key": "sk-right-key"})
            elif kind == "tls":
                servers = request.getfixturevalue("tls_servers")
                for k in ("valid", "selfsigned", "wrong_host", "expired", "incomplete"):
                    server = getattr(servers, k)
                    values[f"tls.{k}.url"] = f"https://localhost:{server.port}"
                    values[f"tls.{k}.port"] = str(server.port)
                pki = servers.pki
                values.update({"pki.ca": str(pki.ca_pem), "pki.ca_der": str(pki.der_ca),
                               "pki.selfsigned": str(pki.files["selfsigned"][0])})
            elif kind == "tls_litellm":  # https://localhost:<port> terminating TLS for LiteLLM
                gw = request.getfixturevalue("litellm_gateway")
                pki = request.getfixturevalue("net_pki")
                relay = TlsRelay(pki.server_context("valid"), gw.port)
                relays.append(relay)
                values.update({"tls_litellm.url": relay.url(), "tls_litellm.port": str(relay.port),
                               "litellm.key": gw.master_key, "pki.ca": str(pki.ca_pem)})
            elif kind == "tls_dead_backend":  # the same TLS terminator, its backend port closed
                pki = request.getfixturevalue("net_pki")
                relay = TlsRelay(pki.server_context("valid"),
                                 request.getfixturevalue("closed_port_number"))
                relays.append(relay)
                values.update({"tls_dead_backend.url": relay.url(),
                               "tls_dead_backend.port": str(relay.port), "pki.ca": str(pki.ca_pem)})
            elif kind == "squid":
                sq = request.getfixturevalue("squid")
                values.update({"squid.url": sq.url(),
                               "squid.url_nocreds": sq.url(credentials=False),
                               "squid.url_badpw": sq.url(password="wrong-password"),
                               "squid.bump_url": sq.bump_url, "squid.bump_ca": str(sq.bump_ca_pem),
                               "squid.blocked_port": str(sq.blocked_port),
                               "squid.port": str(sq.port)})
            elif kind == "squid_ntlm":
                sq = request.getfixturevalue("squid_ntlm")
                values.update({"squid_ntlm.url": sq.url(credentials=False),
                               "squid_ntlm.port": str(sq.port)})
            elif kind == "nginx":  # nginx:<client_max_body_size> a real nginx in front of LiteLLM
                gw = request.getfixturevalue("litellm_gateway")
                front = start_nginx(gw.port, arg or "1m")
                fronts.append(front)
                values.update({"nginx.url": front.url, "nginx.port": str(front.port),
                               "litellm.key": gw.master_key})
            elif kind == "tarpit":
                t = request.getfixturevalue("tarpit_server")
                values.update({"tarpit.url": f"http://127.0.0.1:{t.port}",
                               "tarpit.port": str(t.port)})
            elif kind == "closed":
                values["closed.port"] = str(request.getfixturevalue("closed_port_number"))
            elif kind == "plain":
                p = request.getfixturevalue("plain_http_server")
                values["plain.port"] = str(p.port)
            else:
                raise AssertionError(f"unknown scenario part {name!r}")
        return values

    yield resolve
    for relay in relays:
        relay.close()
    for fake in scenario_gateways:
        fake.stop()
    for front in fronts:
        front.stop()
