"""The lab setups the live benchmarks run against, all on 127.0.0.1 (plus one ``.invalid`` name).

Each setup is a context manager yielding a :class:`Setup`: the environment a user's
shell would have (``ANTHROPIC_*``, proxy variables, ``NODE_EXTRA_CA_CERTS``), the
model it serves and the rule gwdoctor should rank first. Everything started is
stopped on exit, whatever happened inside.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Callable, ContextManager, Iterator

if TYPE_CHECKING:
    from tests.live._tls import Pki

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:  # the live fixtures live under tests/live (no pytest needed)
    sys.path.insert(0, str(REPO))

CLAUDE_BIN = REPO / ".lab/claude/node_modules/.bin"
LITELLM_BIN = REPO / ".lab/litellm/bin/litellm"
GOOD_TOKEN = "sk-gwdoctor-bench-right"
WRONG_TOKEN = "sk-gwdoctor-bench-wrong"
PROXY_USER, PROXY_PASSWORD = "benchuser", "Bench@pw:91c2"
MODEL = "claude-sonnet-4-5"
# Variables a user's shell may carry that would change what the client or gwdoctor does.
_SCRUB_PREFIXES = ("ANTHROPIC_", "CLAUDE_", "GWDOCTOR_", "AWS_", "GOOGLE_", "CLOUD_ML_",
                   "VERTEX_", "NODE_", "SSL_", "REQUESTS_CA", "CURL_CA")

# Rank-1 rules that are right by design for a lab setup, and why (shown, not flagged).
BY_DESIGN = {
    "proxy_auth": {"PRX002": "the lab gateway is on loopback and no NO_PROXY covers it; the "
                             "decision graph ranks that above the proxy's 407 (PRX002 -> PRX003)"},
}


@dataclass
class Setup:
    name: str
    label: str
    expected: str           # the rule id that names the cause
    env: dict[str, str]     # variables on top of the clean base environment
    model: str = MODEL
    client_env: dict[str, str] = field(default_factory=dict)  # only for `claude -p`
    note: str = ""
    # rank-1 rules that are right by design for this lab setup -> why (shown, not flagged)
    by_design: dict[str, str] = field(default_factory=dict)


def clean_env(home: Path, extra: dict[str, str]) -> dict[str, str]:
    """A minimal environment: PATH (with the lab's claude), a fresh HOME, no proxy variables."""
    env = {k: v for k, v in os.environ.items()
           if not k.lower().endswith("_proxy") and not k.startswith(_SCRUB_PREFIXES)}
    path = env.get("PATH", "/usr/local/bin:/usr/bin:/bin")
    if CLAUDE_BIN.is_dir():
        path = f"{CLAUDE_BIN}:{path}"
    env.update({"PATH": path, "HOME": str(home), "NO_COLOR": "1", "CI": "1", **extra})
    env.pop("GWDOCTOR_TIMEOUT", None)
    return env


@contextlib.contextmanager
def fresh_home(prefix: str = "gwdoctor-bench-home-") -> Iterator[Path]:
    home = Path(tempfile.mkdtemp(prefix=prefix))
    try:
        yield home
    finally:
        shutil.rmtree(home, ignore_errors=True)


@contextlib.contextmanager
def _pki() -> Iterator[Pki]:
    from tests.live._tls import make_pki

    root = Path(tempfile.mkdtemp(prefix="gwdoctor-bench-pki-"))
    try:
        yield make_pki(root)
    finally:
        shutil.rmtree(root, ignore_errors=True)


# ---- the healthy setup ----------------------------------------------------------------------

def warm_up(url: str, key: str) -> None:
    """One streaming request per provider path (LiteLLM loads its handlers on first use)."""
    import httpx

    headers = {"authorization": f"Bearer {key}", "anthropic-version": "2023-06-01"}
    with httpx.Client(trust_env=False, timeout=15) as client:
        for model in (MODEL, "gemini-2.5-pro"):
            body = {"model": model, "max_tokens": 1, "stream": True,
                    "messages": [{"role": "user", "content": "warm up"}]}
            with client.stream("POST", f"{url}/v1/messages", headers=headers, json=body) as r:
                r.read()


@contextlib.contextmanager
def healthy() -> Iterator[Setup]:
    """Real LiteLLM (pinned lab install) on loopback in front of the fake streaming upstream."""
    from tests.live._fake_upstream import start_fake_upstream
    from tests.live._litellm import LAB_MASTER_KEY, lab_config, start_litellm

    up = start_fake_upstream()
    try:
        gw = start_litellm(lab_config(up.url))
        try:
            warm_up(gw.url, LAB_MASTER_KEY)
            yield Setup("healthy", "healthy: LiteLLM -> fake upstream", "",
                        {"ANTHROPIC_BASE_URL": gw.url, "ANTHROPIC_AUTH_TOKEN": LAB_MASTER_KEY})
        finally:
            gw.stop()
    finally:
        up.stop()


# ---- the six broken setups ------------------------------------------------------------------

@contextlib.contextmanager
def closed_port() -> Iterator[Setup]:
    from tests.live._tls import closed_port as free_closed_port

    yield Setup("closed_port", "gateway port closed", "GWY001",
                {"ANTHROPIC_BASE_URL": f"http://127.0.0.1:{free_closed_port()}",
                 "ANTHROPIC_AUTH_TOKEN": GOOD_TOKEN})


@contextlib.contextmanager
def unresolvable() -> Iterator[Setup]:
    yield Setup("unresolvable", "gateway host unresolvable", "DNS001",
                {"ANTHROPIC_BASE_URL": "http://llm-gateway.invalid:4000",
                 "ANTHROPIC_AUTH_TOKEN": GOOD_TOKEN},
                note="RFC 6761 .invalid: the resolver answers NXDOMAIN")


@contextlib.contextmanager
def rejected_token() -> Iterator[Setup]:
    from tests.live._fake_upstream import start_fake_upstream

    gw = start_fake_upstream("auth", key=GOOD_TOKEN)
    try:
        yield Setup("rejected_token", "token rejected (gateway 401)", "AUT002",
                    {"ANTHROPIC_BASE_URL": gw.url, "ANTHROPIC_AUTH_TOKEN": WRONG_TOKEN})
    finally:
        gw.stop()


@contextlib.contextmanager
def untrusted_tls() -> Iterator[Setup]:
    from tests.live._tls import LoopbackServer, tls_handler

    with _pki() as pki:
        server = LoopbackServer(tls_handler(pki.server_context("valid")), "bench-tls-private-ca")
        try:
            yield Setup("untrusted_tls", "TLS cert from a private CA, CA not trusted", "TLS001",
                        {"ANTHROPIC_BASE_URL": server.url("https", "localhost"),
                         "ANTHROPIC_AUTH_TOKEN": GOOD_TOKEN})
        finally:
            server.close()


@contextlib.contextmanager
def proxy_auth() -> Iterator[Setup]:
    """squid with Basic auth, HTTPS_PROXY without credentials, an https gateway whose CA
    the client trusts (NODE_EXTRA_CA_CERTS), so the proxy's 407 is the only fault."""
    from tests.live._squid import start_squid
    from tests.live._tls import LoopbackServer, tls_handler

    with _pki() as pki:
        server = LoopbackServer(tls_handler(pki.server_context("valid")), "bench-tls-behind-squid")
        try:
            squid = start_squid(pki.ca_pem, PROXY_USER, PROXY_PASSWORD)
            try:
                yield Setup("proxy_auth", "proxy demands auth, no credentials", "PRX003",
                            {"ANTHROPIC_BASE_URL": server.url("https", "localhost"),
                             "ANTHROPIC_AUTH_TOKEN": GOOD_TOKEN,
                             "HTTPS_PROXY": squid.url(credentials=False),
                             "NODE_EXTRA_CA_CERTS": str(pki.ca_pem)},
                            by_design=BY_DESIGN["proxy_auth"])
            finally:
                squid.stop()
        finally:
            server.close()


@contextlib.contextmanager
def tarpit() -> Iterator[Setup]:
    from tests.live._tls import LoopbackServer, tarpit_handler

    server = LoopbackServer(tarpit_handler, "bench-tarpit")
    try:
        yield Setup("tarpit", "listener accepts, never answers", "GWY002",
                    {"ANTHROPIC_BASE_URL": server.url("http"), "ANTHROPIC_AUTH_TOKEN": GOOD_TOKEN},
                    client_env={"API_TIMEOUT_MS": "15000"})
    finally:
        server.close()


BROKEN: list[Callable[[], ContextManager[Setup]]] = [
    closed_port, unresolvable, rejected_token, untrusted_tls, proxy_auth, tarpit]
