"""A proxy chosen by an untrusted repository's settings gets no credentials: from the settings
file, through config.settings and proxy.route, to the bytes a real local proxy receives."""

from __future__ import annotations

import json
import socket
import threading
from typing import Any, Iterator

import pytest
from _box import Box
from gwdoctor.engine import ProbeContext
from gwdoctor.probes._gwhttp import client_headers, withheld_because
from gwdoctor.probes.auth import gateway_models
from gwdoctor.probes.gateway import gateway_http
from gwdoctor.probes.model import model_messages
from gwdoctor.probes.proxy import proxy_route

CANARY = "sk-canary-5b1d7e0c93aa"
# An http:// gateway: through a proxy every request is an absolute-URI request, headers in clear.
GATEWAY = "http://llm.corp.example:4000"
SHELL = {"ANTHROPIC_BASE_URL": GATEWAY, "ANTHROPIC_AUTH_TOKEN": CANARY,
         "ANTHROPIC_API_KEY": CANARY + "k",
         "ANTHROPIC_CUSTOM_HEADERS": f"x-portkey-api-key: {CANARY}c"}


class RecordingProxy:
    """A local "proxy" that records every byte it is sent and answers each request with a
    gateway-like 401, so the probes finish quickly without anything leaving the machine."""

    def __init__(self) -> None:
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.received: list[bytes] = []
        self._lock = threading.Lock()
        threading.Thread(target=self._serve, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.server.accept()
            except OSError:
                return
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def _handle(self, conn: socket.socket) -> None:
        conn.settimeout(3)
        data = b""
        try:
            while b"\r\n\r\n" not in data:
                chunk = conn.recv(65536)
                if not chunk:
                    break
                data += chunk
            head, _, body = data.partition(b"\r\n\r\n")
            length = next((int(line.split(b":", 1)[1]) for line in head.split(b"\r\n")
                           if line.lower().startswith(b"content-length:")), 0)
            while len(body) < length:
                chunk = conn.recv(65536)
                if not chunk:
                    break
                body += chunk
                data += chunk
            # Recorded before answering: the probe may check as soon as it has the answer.
            with self._lock:
                self.received.append(data)
            data = b""
            reply = b'{"error": {"message": "Unauthorized", "type": "auth_error"}}'
            conn.sendall(b"HTTP/1.1 401 Unauthorized\r\nContent-Type: application/json\r\n"
                         b"Content-Length: %d\r\nConnection: close\r\n\r\n%s" % (len(reply), reply))
        except OSError:
            pass
        finally:
            if data:  # cut short before the answer: still record what arrived
                with self._lock:
                    self.received.append(data)
            conn.close()

    def request_lines(self) -> list[str]:
        return [r.split(b"\r\n", 1)[0].decode("latin-1") for r in self.received]

    def close(self) -> None:
        self.server.close()


def _headers(request: bytes) -> dict[str, str]:
    lines = request.partition(b"\r\n\r\n")[0].decode("latin-1").split("\r\n")[1:]
    return {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines)}


@pytest.fixture
def recording_proxy() -> Iterator[RecordingProxy]:
    proxy = RecordingProxy()
    yield proxy
    proxy.close()


def _trust(box: Box) -> None:
    (box.home / ".claude.json").write_text(json.dumps(
        {"projects": {str(box.cwd): {"hasTrustDialogAccepted": True}}}))


def _scan_ctx(box: Box, shell: dict[str, str]) -> ProbeContext:
    """config.settings and proxy.route as the engine runs them, plus what gate() reads from the
    dns/connect/gateway probes (all fine, via the proxy)."""
    facts, ctx = box.run(shell)
    ctx.facts.update(facts)
    ctx.facts.update(proxy_route.run(ctx))
    ctx.facts.update({"connect.gateway": {"status": "skipped_via_proxy"},
                      "gateway.transport_error": None})
    return ctx


def _send_everything(ctx: ProbeContext) -> dict[str, Any]:
    """Every HTTP probe that sends the client's headers, through client_for's real route."""
    out: dict[str, Any] = {}
    out.update(gateway_http.run(ctx))
    out.update(gateway_models.run(ctx))
    out.update(model_messages.run(ctx))
    return out


@pytest.mark.parametrize("layer", ["project", "local"])
@pytest.mark.parametrize("variable", ["HTTPS_PROXY", "https_proxy", "HTTP_PROXY"])
def test_untrusted_repo_proxy_sees_no_credentials(box: Box, recording_proxy: RecordingProxy,
                                                  layer: str, variable: str) -> None:
    path = box.write(layer, {"env": {variable: recording_proxy.url}})
    ctx = _scan_ctx(box, SHELL)
    route = ctx.facts["proxy.route"]
    assert route["used"] is True and route["variable"] == variable
    assert route["source"] == {"layer": layer, "file": str(path)}
    assert route["untrusted_settings"] is True
    assert "not trusted" in route["reason"]
    assert withheld_because(ctx) == ["proxy"]

    out = _send_everything(ctx)
    lines = recording_proxy.request_lines()
    # The route is still probed (reachability is still diagnosed), through the repo's proxy ...
    assert f"GET {GATEWAY}/v1/models HTTP/1.1" in lines
    assert any(line.startswith(f"POST {GATEWAY}/v1/messages?beta=true") for line in lines)
    assert any(line.startswith(f"POST {GATEWAY}/v1/messages/count_tokens") for line in lines)
    # ... but nothing of the user's credentials crosses it, in any header or body.
    wire = b"".join(recording_proxy.received)
    assert CANARY.encode() not in wire
    for request in recording_proxy.received:
        assert {"authorization", "x-api-key", "x-portkey-api-key"}.isdisjoint(_headers(request))
    assert out["gateway.models"]["credentials_withheld"] is True
    assert out["gateway.models"]["sent_headers"] == []
    assert CANARY not in json.dumps({**ctx.facts, **out})


@pytest.mark.parametrize("where", ["trusted project", "user", "shell"])
def test_proxy_the_user_chose_gets_the_credentials(box: Box, recording_proxy: RecordingProxy,
                                                   where: str) -> None:
    shell = dict(SHELL)
    if where == "trusted project":
        box.write("project", {"env": {"HTTPS_PROXY": recording_proxy.url}})
        _trust(box)
    elif where == "user":
        box.write("user", {"env": {"HTTPS_PROXY": recording_proxy.url}})
    else:
        shell["HTTPS_PROXY"] = recording_proxy.url
    ctx = _scan_ctx(box, shell)
    assert ctx.facts["proxy.route"]["untrusted_settings"] is False
    assert withheld_because(ctx) == []
    out = gateway_models.run(ctx)
    (request,) = recording_proxy.received
    assert request.startswith(f"GET {GATEWAY}/v1/models HTTP/1.1".encode())
    headers = _headers(request)
    assert headers["authorization"] == f"Bearer {CANARY}" and headers["x-api-key"] == CANARY + "k"
    assert out["gateway.models"]["credentials_withheld"] is False
    assert out["gateway.models"]["sent_headers"] == ["authorization", "x-api-key"]


def test_the_gate_follows_the_variable_the_client_takes(box: Box) -> None:
    # The client takes https_proxy before HTTPS_PROXY (undici order): the repository's upper-case
    # one is shadowed by the user's lower-case one, and the other way round.
    box.write("project", {"env": {"HTTPS_PROXY": "http://repo-proxy.example:8080"}})
    ctx = _scan_ctx(box, {**SHELL, "https_proxy": "http://corp-proxy.example:3128"})
    assert ctx.facts["proxy.route"]["variable"] == "https_proxy"
    assert ctx.facts["proxy.route"]["source"]["layer"] == "shell"
    assert withheld_because(ctx) == []
    assert client_headers(ctx)["authorization"] == f"Bearer {CANARY}"

    box.write("project", {"env": {"https_proxy": "http://repo-proxy.example:8080"}})
    ctx = _scan_ctx(box, {**SHELL, "HTTPS_PROXY": "http://corp-proxy.example:3128"})
    assert ctx.facts["proxy.route"]["host"] == "repo-proxy.example"
    assert withheld_because(ctx) == ["proxy"]
    headers = client_headers(ctx)
    assert "authorization" not in headers and "x-api-key" not in headers


def test_a_repo_proxy_that_does_not_apply_withholds_nothing(box: Box) -> None:
    # NO_PROXY (the user's) covers the gateway: the repository's proxy is never on the route.
    box.write("project", {"env": {"HTTPS_PROXY": "http://repo-proxy.example:8080"}})
    ctx = _scan_ctx(box, {**SHELL, "NO_PROXY": "llm.corp.example"})
    route = ctx.facts["proxy.route"]
    assert route["used"] is False and route["source"]["layer"] == "project"
    assert route["untrusted_settings"] is False
    assert withheld_because(ctx) == []


def test_both_the_base_url_and_the_proxy_from_the_repo(box: Box) -> None:
    box.write("project", {"env": {"ANTHROPIC_BASE_URL": GATEWAY,
                                  "HTTPS_PROXY": "http://repo-proxy.example:8080"}})
    ctx = _scan_ctx(box, {"ANTHROPIC_AUTH_TOKEN": CANARY})
    assert withheld_because(ctx) == ["base_url", "proxy"]
    _trust(box)
    ctx = _scan_ctx(box, {"ANTHROPIC_AUTH_TOKEN": CANARY})
    assert withheld_because(ctx) == []


def test_missing_trust_fact_counts_as_untrusted_and_route_without_source_is_recomputed(
        box: Box) -> None:
    box.write("project", {"env": {"HTTPS_PROXY": "http://repo-proxy.example:8080"}})
    ctx = _scan_ctx(box, SHELL)
    del ctx.facts["config.workspace_trusted"]
    # A proxy.route recorded before it carried "source" (a replayed facts file): config.env decides.
    ctx.facts["proxy.route"] = {k: v for k, v in ctx.facts["proxy.route"].items() if k != "source"}
    assert withheld_because(ctx) == ["proxy"]
