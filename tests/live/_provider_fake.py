"""A fake Bedrock runtime and Vertex AI endpoint on loopback, and a "cloud proxy" that leads
LiteLLM's pass-through to them.

The fake checks the provider-side request the way the cloud would (path shape, model id,
region, project, credential header) and answers in the provider's wire format: Bedrock
``invoke-with-response-stream`` as ``application/vnd.amazon.eventstream`` frames, Vertex
``streamRawPredict`` as Anthropic SSE. Faults are chosen by a token in the model id (as in
_fake_upstream): ``denied`` (403 access not granted), ``throttled`` (429 quota), ``badcreds``
(403/401 credentials rejected). A Bedrock id without an inference-profile prefix
(``anthropic.claude-…``) gets the on-demand 400; a Vertex model outside ``vertex_regions`` the
404 "Publisher Model … was not found".

LiteLLM 1.108.7 reaches Bedrock at ``AWS_BEDROCK_RUNTIME_ENDPOINT`` (plain http here) but Vertex
only at ``https://{region}-aiplatform.googleapis.com``: :class:`CloudProxy` is an HTTPS proxy
(``HTTPS_PROXY`` + ``AIOHTTP_TRUST_ENV`` for LiteLLM) that answers every CONNECT to a
``*.googleapis.com``/``*.amazonaws.com`` name by tunnelling to the fake's TLS port, whose
certificate (from a throw-away CA, ``SSL_CERT_FILE``) names those hosts. Nothing leaves 127.0.0.1.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import socket
import ssl
import struct
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from gwdoctor.probes._recorder import Exchange, Recorder, Reply, anthropic_stream

__all__ = ["CloudProxy", "ProviderFake", "eventstream_frame", "bedrock_stream"]

TEXT = "Hello from fake upstream."
VERTEX_PATH = re.compile(r"^/v1/projects/(?P<project>[^/]+)/locations/(?P<region>[^/]+)/"
                         r"publishers/anthropic/"
                         r"models/(?P<model>[^/:]+):(?P<action>streamRawPredict|rawPredict)$")
BEDROCK_PATH = re.compile(r"^/model/(?P<model>.+)/(?P<action>invoke|invoke-with-response-stream)$")
PROFILE_PREFIXES = ("us.", "eu.", "apac.", "jp.", "au.", "us-gov.", "global.")
ON_DEMAND = ("Invocation of model ID {model} with on-demand throughput isn\u2019t supported. "
             "Retry your request with the ID or ARN of an inference profile that contains this "
             "model.")


def _header(name: str, value: str) -> bytes:
    raw_name, raw_value = name.encode(), value.encode()
    return (bytes([len(raw_name)]) + raw_name + b"\x07" + struct.pack(">H", len(raw_value))
            + raw_value)


def eventstream_frame(headers: dict[str, str], payload: bytes) -> bytes:
    """One AWS event-stream message: prelude (total, header length, CRC), headers, payload, CRC."""
    head = b"".join(_header(k, v) for k, v in headers.items())
    total = 12 + len(head) + len(payload) + 4
    prelude = struct.pack(">II", total, len(head))
    prelude += struct.pack(">I", binascii.crc32(prelude) & 0xFFFFFFFF)
    body = prelude + head + payload
    return body + struct.pack(">I", binascii.crc32(body) & 0xFFFFFFFF)


def bedrock_stream(model: str, text: str = TEXT) -> list[bytes]:
    """``invoke-with-response-stream``: each Anthropic event as ``{"bytes": base64(json)}`` in a
    chunk frame."""
    frames = []
    for block in anthropic_stream(model, text):
        data = block.decode().split("data: ", 1)[1].strip()
        payload = json.dumps({"bytes": base64.b64encode(data.encode()).decode()}).encode()
        frames.append(eventstream_frame({":event-type": "chunk",
                                         ":content-type": "application/json",
                                         ":message-type": "event"}, payload))
    return frames


def _aws_error(status: int, kind: str, message: str) -> Reply:
    return Reply(status, {"content-type": "application/json",
                          "x-amzn-errortype":
                              f"{kind}:http://internal.amazon.com/coral/com.amazon.bedrock/"},
                 [json.dumps({"message": message}).encode()])


def _google_error(status: int, kind: str, message: str) -> Reply:
    return Reply(status, {"content-type": "application/json; charset=UTF-8"},
                 [json.dumps({"error": {"code": status, "message": message,
                                        "status": kind}}).encode()])


def _tokens(model: str) -> set[str]:
    return set(re.split(r"[-.:@/]", model.lower()))


@dataclass
class ProviderFake:
    """``with ProviderFake() as fake: fake.url (http), fake.tls_url, fake.exchanges``."""

    project: str = "acme-claude-prod"
    vertex_regions: tuple[str, ...] = ("us-east5", "global")
    require_auth: bool = True       # Bedrock: SigV4 or Bearer; Vertex: Bearer
    pki_dir: Path | None = None     # where the CA and the cloud-name certificate go (TLS side)
    prefix: str = ""                # a path prefix to accept (a recorder standing in for a gateway)
    exchanges: list[Exchange] = field(default_factory=list)

    def respond(self, ex: Exchange) -> Reply | None:
        self.exchanges.append(ex)
        auth = ex.headers.get("authorization", "")
        body = ex.json if isinstance(ex.json, dict) else {}
        if ex.method == "POST" and ex.path == "/token":
            # oauth2.googleapis.com: LiteLLM trades the service account's signed JWT for a token.
            return Reply(200, {"content-type": "application/json"},
                         [json.dumps({"access_token": "ya29.fake-cloud-token", "expires_in": 3599,
                                      "token_type": "Bearer"}).encode()])
        if ex.method == "GET" and ex.path.endswith("/inference-profiles"):
            return Reply(200, {"content-type": "application/json"},
                         [b'{"inferenceProfileSummaries": []}'])
        path = (ex.path[len(self.prefix):] if self.prefix and ex.path.startswith(self.prefix)
                else ex.path)
        m = BEDROCK_PATH.match(path)
        if m and ex.method == "POST":
            model = m.group("model").replace("%3A", ":")
            tokens = _tokens(model)
            if self.require_auth and not (auth.startswith("AWS4-HMAC-SHA256 ")
                                          or auth.startswith("Bearer ")):
                return _aws_error(403, "MissingAuthenticationTokenException",
                                  "Missing Authentication Token")
            if "badcreds" in tokens:
                return _aws_error(403, "UnrecognizedClientException",
                                  "The security token included in the request is invalid.")
            if body.get("anthropic_version") != "bedrock-2023-05-31":
                return _aws_error(400, "ValidationException",
                                  "Malformed input request: anthropic_version is required")
            if not model.startswith(PROFILE_PREFIXES) and not model.startswith("arn:"):
                return _aws_error(400, "ValidationException", ON_DEMAND.format(model=model))
            if "denied" in tokens:
                return _aws_error(403, "AccessDeniedException",
                                  "You don't have access to the model with the specified "
                                  "model ID.")
            if "throttled" in tokens:
                return _aws_error(429, "ThrottlingException",
                                  "Too many requests, please wait before trying again.")
            if not re.search(r"anthropic\.claude-", model):
                return _aws_error(400, "ValidationException",
                                  "The provided model identifier is invalid.")
            if m.group("action") == "invoke":
                msg = {"id": "msg_fake", "type": "message", "role": "assistant", "model": model,
                       "content": [{"type": "text", "text": TEXT}], "stop_reason": "end_turn",
                       "stop_sequence": None, "usage": {"input_tokens": 1, "output_tokens": 5}}
                return Reply(200, {"content-type": "application/json"}, [json.dumps(msg).encode()])
            return Reply(200, {"content-type": "application/vnd.amazon.eventstream"},
                         bedrock_stream(model))
        m = VERTEX_PATH.match(path)
        if m and ex.method == "POST":
            model, region, project = m.group("model"), m.group("region"), m.group("project")
            tokens = _tokens(model)
            if self.require_auth and not auth.startswith("Bearer "):
                return _google_error(401, "UNAUTHENTICATED",
                                     "Request is missing required authentication credential. "
                                     "Expected OAuth 2 access token, login cookie or other valid "
                                     "authentication credential.")
            if "badcreds" in tokens:
                return _google_error(401, "UNAUTHENTICATED",
                                     "Request had invalid authentication credentials. "
                                     "Expected OAuth 2 access token, login cookie or other valid "
                                     "authentication credential.")
            if project != self.project:
                return _google_error(403, "PERMISSION_DENIED",
                                     f"Permission 'aiplatform.endpoints.predict' denied on "
                                     f"resource '//aiplatform.googleapis.com/projects/{project}/"
                                     f"locations/{region}/publishers/anthropic/models/{model}' "
                                     f"(or it may not exist).")
            if region not in self.vertex_regions or not model.startswith("claude-"):
                return _google_error(404, "NOT_FOUND",
                                     f"Publisher Model `projects/{project}/locations/{region}/"
                                     f"publishers/anthropic/models/{model}` was not found or your "
                                     "project does not have access to it. Please ensure you are "
                                     "using a valid model version.")
            if body.get("anthropic_version") != "vertex-2023-10-16":
                return _google_error(400, "INVALID_ARGUMENT",
                                     "anthropic_version: vertex-2023-10-16 is required")
            if "denied" in tokens:
                return _google_error(403, "PERMISSION_DENIED",
                                     f"Permission 'aiplatform.endpoints.predict' denied on "
                                     f"resource '//aiplatform.googleapis.com/projects/{project}/"
                                     f"locations/{region}/publishers/anthropic/models/{model}' "
                                     f"(or it may not exist).")
            if "throttled" in tokens:
                return _google_error(429, "RESOURCE_EXHAUSTED",
                                     "Quota exceeded for aiplatform.googleapis.com/"
                                     f"online_prediction_requests_per_base_model with base model: "
                                     f"anthropic-{model}. Please submit a quota increase request.")
            if m.group("action") == "rawPredict":
                msg = {"id": "msg_fake", "type": "message", "role": "assistant", "model": model,
                       "content": [{"type": "text", "text": TEXT}], "stop_reason": "end_turn",
                       "stop_sequence": None, "usage": {"input_tokens": 1, "output_tokens": 5}}
                return Reply(200, {"content-type": "application/json"}, [json.dumps(msg).encode()])
            return Reply(200, {"content-type": "text/event-stream"}, anthropic_stream(model, TEXT))
        # Google's front end: a path it does not serve gets an HTML 404.
        return Reply(404, {"content-type": "text/html; charset=UTF-8"},
                     [b"<!DOCTYPE html><html><title>Error 404 (Not Found)!!1</title>"
                      b"<p>The requested URL was not found on this server.</p></html>"])

    def start(self) -> ProviderFake:
        self._plain = Recorder(responder=self.respond).start()
        self._tls = None
        if self.pki_dir is not None:
            import trustme

            ca = trustme.CA()
            leaf = ca.issue_cert("*.googleapis.com", "*.rep.googleapis.com", "*.amazonaws.com",
                                 "*.us-east-1.amazonaws.com", "*.eu-west-1.amazonaws.com",
                                 "*.us-west-2.amazonaws.com")
            self.pki_dir.mkdir(parents=True, exist_ok=True)
            self.ca_file = self.pki_dir / "fake-cloud-ca.pem"
            ca.cert_pem.write_to_path(str(self.ca_file))
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            leaf.configure_cert(ctx)
            self._tls = Recorder(responder=self.respond, tls=ctx).start()
        return self

    def service_account(self, path: Path) -> Path:
        """A service-account key file for ``project`` (a fresh RSA key; the fake's token
        endpoint accepts any signed assertion)."""
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import rsa

        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
        path.write_text(json.dumps({
            "type": "service_account", "project_id": self.project, "private_key_id": "fake0001",
            "private_key": pem, "client_email": f"litellm@{self.project}.iam.gserviceaccount.com",
            "client_id": "100000000000000000001",
            "token_uri": "https://oauth2.googleapis.com/token"}))
        return path

    def stop(self) -> None:
        self._plain.stop()
        if self._tls is not None:
            self._tls.stop()

    @property
    def url(self) -> str:
        return self._plain.url

    @property
    def tls_port(self) -> int:
        assert self._tls is not None
        return self._tls.port

    def __enter__(self) -> ProviderFake:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


_CLOUD = re.compile(r"^[a-z0-9.-]+\.(googleapis\.com|amazonaws\.com):443$")


class CloudProxy:
    """An HTTP proxy that tunnels CONNECTs for cloud names to the fake's TLS port and refuses
    everything else (so a stray request cannot leave the machine)."""

    def __init__(self, tls_port: int) -> None:
        self.tls_port = tls_port
        self.targets: list[str] = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                pass

            def do_CONNECT(self) -> None:  # noqa: N802
                owner.targets.append(self.path)
                if not _CLOUD.match(self.path):
                    self.send_error(403, "fake cloud proxy: cloud names only")
                    return
                try:
                    up = socket.create_connection(("127.0.0.1", owner.tls_port), timeout=10)
                except OSError:
                    self.send_error(502)
                    return
                self.send_response(200, "Connection established")
                self.end_headers()
                self.close_connection = True
                from gwdoctor.probes._recorder import _relay

                _relay(self.connection, up)

            def _refuse(self) -> None:
                self.send_error(403, "fake cloud proxy: CONNECT only")

            do_GET = do_POST = _refuse  # noqa: N815

        class Server(ThreadingHTTPServer):
            daemon_threads = True
            allow_reuse_address = True

        self._server = Server(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                         daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
