"""proxy.route (pure, per client version) and proxy.connect (against a real squid)."""

from __future__ import annotations

import json

import pytest
from gwdoctor.engine.registry import builtin_rules
from gwdoctor.probes._route import no_proxy_match, redact_url
from gwdoctor.probes._tunnel import basic_credentials
from gwdoctor.probes.proxy import proxy_connect
from live._netctx import net_ctx
from live.network import PROXY_PASSWORD, PROXY_USER

RULES = {r.id: r for r in builtin_rules()}


@pytest.mark.parametrize(("host", "port", "value", "cidr", "expected"), [
    ("gw.example.com", 443, "gw.example.com", False, "gw.example.com"),
    ("a.example.com", 443, ".example.com", False, ".example.com"),
    ("a.example.com", 443, "example.com", False, "example.com"),  # undici: plain entries cover
                                                                  # subdomains
    ("a.example.com", 443, "*.example.com", False, "*.example.com"),
    ("example.com", 443, ".example.com", False, ".example.com"),
    ("badexample.com", 443, "example.com", False, None),          # dot boundary
    ("anything.test", 443, "*", False, "*"),
    ("anything.test", 443, "localhost,*", False, None),           # '*' only as the whole value
    ("gw.example.com", 4000, "gw.example.com:4000", False, "gw.example.com:4000"),
    ("gw.example.com", 443, "gw.example.com:4000", False, None),  # port-specific
    ("127.0.0.1", 4000, "localhost", True, None),                 # localhost does not cover
                                                                  # 127.0.0.1
    ("127.0.0.1", 4000, "127.0.0.0/8", True, "127.0.0.0/8"),      # CIDR on an IP literal (2.1.332)
    ("127.0.0.1", 4000, "127.0.0.0/8", False, None),              # older: CIDR is a literal name
    ("localhost", 4000, "127.0.0.0/8", True, None),               # CIDR never covers a host name
    ("::1", 4000, "[::1]:4000", True, "[::1]:4000"),
    ("::1", 4000, "::1", True, "::1"),
    ("GW.Example.COM.", 443, "gw.example.com", False, "gw.example.com"),
    ("gw.example.com", 443, "foo.test gw.example.com", False, "gw.example.com"),  # space-separated
    ("gw.example.com", 443, None, False, None),
])
def test_no_proxy_matrix(host, port, value, cidr, expected):
    assert no_proxy_match(host, port, value, cidr=cidr) == expected


@pytest.mark.parametrize(("version", "used", "honoured"), [
    ("2.1.332", False, True), ("2.1.117", True, False), ("2.1.30", True, False),
    ("2.1.50", False, True), ("1.0.50", True, False),
])
def test_no_proxy_honoured_per_version(version, used, honoured):
    ctx = net_ctx("https://llm.example.com",
                  {"HTTPS_PROXY": "http://proxy:8080", "NO_PROXY": ".example.com"},
                  version=version)
    route = ctx.facts["proxy.route"]
    assert (route["used"], route["no_proxy_honoured"], route["no_proxy_match"]) == (
        used, honoured, ".example.com")


def test_cidr_entry_is_version_keyed():
    env = {"HTTPS_PROXY": "http://proxy:8080", "NO_PROXY": "127.0.0.0/8"}
    assert net_ctx("http://127.0.0.1:4000", env,
                   version="2.1.332").facts["proxy.route"]["used"] is False
    assert net_ctx("http://127.0.0.1:4000", env,
                   version="2.1.300").facts["proxy.route"]["used"] is True
    assert net_ctx("http://localhost:4000", env,
                   version="2.1.332").facts["proxy.route"]["used"] is True


def test_lower_case_first_and_http_gateway_uses_https_proxy():
    env = {"https_proxy": "http://lower:1", "HTTPS_PROXY": "http://upper:2",
           "HTTP_PROXY": "http://plain:3"}
    facts = net_ctx("http://127.0.0.1:4000", env).facts
    assert facts["proxy.route"]["variable"] == "https_proxy"
    assert facts["proxy.route"]["host"] == "lower"
    codes = {(p["code"], p["variable"]) for p in facts["proxy.url_problems"]}
    assert ("case_disagreement", "HTTPS_PROXY") in codes


def test_empty_lower_case_variable_masks_upper_case_on_undici_clients():
    env = {"https_proxy": "", "HTTPS_PROXY": "http://p:1"}
    facts = net_ctx("https://gw.example.com", env, version="2.1.150").facts
    assert facts["proxy.route"]["used"] is False
    assert "empty" in facts["proxy.route"]["reason"]
    assert facts["proxy.variables"]["https_proxy"]["empty"] is True


def test_empty_variable_is_skipped_on_2_1_332():
    # Measured: https_proxy="" with a dead HTTPS_PROXY still failed with ECONNREFUSED.
    facts = net_ctx("https://gw.example.com",
                    {"https_proxy": "", "HTTPS_PROXY": "http://p:1"}).facts
    assert (facts["proxy.route"]["used"] is True
            and facts["proxy.route"]["variable"] == "HTTPS_PROXY")
    assert facts["proxy.variables"]["https_proxy"]["empty"] is True


def test_missing_scheme_is_repaired_but_flagged():
    facts = net_ctx("https://gw.example.com", {"HTTPS_PROXY": "127.0.0.1:3128"}).facts
    assert facts["proxy.route"]["used"] and facts["proxy.route"]["port"] == 3128
    assert [p["code"] for p in facts["proxy.url_problems"]] == ["no_scheme"]


@pytest.mark.parametrize(("value", "code"), [
    ("socks5://127.0.0.1:1080", "socks"),
    ("https://proxy.corp:8080", "https_scheme"),
    ("http://me:pa/ss@proxy.corp:8080", "unencoded_userinfo"),
    ("http://me:50%off@proxy.corp:8080", "unencoded_userinfo"),
    ("http://me@proxy.corp:8080", "user_without_password"),
    ("https://gw.corp.example/openai/v1/", "has_path"),
    ("http://gw.corp.example:4000", "points_at_gateway"),
])
def test_url_problems(value, code):
    facts = net_ctx("http://gw.corp.example:4000", {"HTTPS_PROXY": value}).facts
    assert code in [p["code"] for p in facts["proxy.url_problems"]]
    assert "pa/ss" not in json.dumps(facts) and "50%off" not in json.dumps(facts)


def test_redaction_and_vault():
    ctx = net_ctx("https://gw.example.com", {"HTTPS_PROXY": "http://u:s3cret@proxy:8080"})
    assert ctx.facts["proxy.route"]["url"] == "http://u:***@proxy:8080"
    assert ctx.vault.get("proxy.url") == "http://u:s3cret@proxy:8080"
    assert "s3cret" not in json.dumps(ctx.facts)
    assert redact_url("http://u:a/b@host:1") == "http://u:***@host:1"
    assert redact_url("http://u:2024#b@host:1") == "http://***@host:1"  # "u:2024" could be a port


def test_basic_credentials_like_undici():
    assert basic_credentials("http://u%40corp:p%3Ass@proxy:1") == \
        "Basic dUBjb3JwOnA6c3M="  # u@corp:p:ss
    assert basic_credentials("http://u@proxy:1") is None
    assert basic_credentials("http://:pw@proxy:1") is None
    assert basic_credentials("http://proxy:1") is None


# --- real squid -------------------------------------------------------------------------------

def _connect(url: str, proxy: str):
    ctx = net_ctx(url, {"HTTPS_PROXY": proxy})
    ctx.facts.update(proxy_connect.run(ctx))
    return ctx


@pytest.mark.live
def test_connect_with_credentials_opens_the_tunnel(squid, tls_servers):
    ctx = _connect(tls_servers.valid.url("https"), squid.url())
    assert ctx.facts["proxy.tcp"]["status"] == "ok"
    connect = ctx.facts["proxy.connect"]
    assert (connect["method"], connect["status"], connect["sent_credentials"]) == (
        "CONNECT", 200, True)
    assert PROXY_PASSWORD not in json.dumps(ctx.facts)
    assert not RULES["PRX003"].evaluate(ctx.facts) and not RULES["PRX004"].evaluate(ctx.facts)


@pytest.mark.live
def test_connect_without_credentials_gets_407_basic(squid, tls_servers):
    ctx = _connect(tls_servers.valid.url("https"), squid.url(credentials=False))
    connect = ctx.facts["proxy.connect"]
    assert connect["status"] == 407 and connect["authenticate"] == ["Basic"]
    assert connect["sent_credentials"] is False
    assert RULES["PRX003"].evaluate(ctx.facts)


@pytest.mark.live
def test_wrong_password_gets_407_with_credentials_sent(squid, tls_servers):
    ctx = _connect(tls_servers.valid.url("https"), squid.url(password="not-the-password"))
    assert ctx.facts["proxy.connect"]["status"] == 407
    assert ctx.facts["proxy.connect"]["sent_credentials"] is True
    findings = RULES["PRX004"].evaluate(ctx.facts)
    assert findings and "not-the-password" not in json.dumps([f.message for f in findings])


@pytest.mark.live
def test_proxy_refusing_the_destination_is_403(squid):
    ctx = _connect(f"https://127.0.0.1:{squid.blocked_port}", squid.url())
    assert ctx.facts["proxy.connect"]["status"] == 403
    assert RULES["PRX005"].evaluate(ctx.facts)


@pytest.mark.live
def test_http_gateway_get_without_credentials_shows_the_squid_page(squid, plain_http_server):
    ctx = _connect(plain_http_server.url("http"), squid.url(credentials=False))
    connect = ctx.facts["proxy.connect"]
    assert (connect["method"], connect["status"]) == ("GET", 407)
    assert connect["body_title"] == "ERROR: Cache Access Denied"
    assert connect["error_header"].startswith("ERR_CACHE_ACCESS_DENIED")


@pytest.mark.live
def test_http_gateway_get_with_credentials_reaches_the_gateway(squid, plain_http_server):
    ctx = _connect(plain_http_server.url("http"), squid.url())
    assert ctx.facts["proxy.connect"]["status"] == 200
    assert ctx.facts["proxy.connect"]["from_proxy"] is False
    assert PROXY_PASSWORD not in json.dumps(ctx.facts) and PROXY_USER in json.dumps(ctx.facts)


@pytest.mark.live
def test_closed_proxy_port_is_refused(closed_port_number, tls_servers):
    ctx = _connect(tls_servers.valid.url("https"), f"http://127.0.0.1:{closed_port_number}")
    assert ctx.facts["proxy.tcp"]["status"] == "refused"
    assert RULES["PRX001"].evaluate(ctx.facts)


@pytest.mark.live
def test_loopback_gateway_via_squid_fires_prx002_and_no_proxy_fixes_it(squid, plain_http_server):
    url = plain_http_server.url("http")
    ctx = net_ctx(url, {"HTTPS_PROXY": squid.url(), "NO_PROXY": "localhost"})
    findings = RULES["PRX002"].evaluate(ctx.facts)
    assert findings and "localhost,127.0.0.1" in findings[0].fixes[0].snippet
    fixed = net_ctx(url, {"HTTPS_PROXY": squid.url(), "NO_PROXY": "localhost,127.0.0.1"})
    assert fixed.facts["proxy.route"]["used"] is False
