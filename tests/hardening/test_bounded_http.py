"""The bounded transport decodes real layered bodies and stops a bomb after a step, not after
1 GB."""

from __future__ import annotations

import gzip
import json
import resource
import zlib

import httpx
import pytest
from gwdoctor.probes._bounded import MAX_BODY, BodyTooLarge, bounded  # noqa: I001

DOC = {"data": [{"id": f"claude-model-{i}"} for i in range(50)]}


class _Wire(httpx.BaseTransport):
    """Hands back the body undecoded, as a network transport does (MockTransport reads and
    inflates it before returning, which is what this module exists to prevent)."""

    def __init__(self, body: bytes, encoding: str) -> None:
        self.body, self.encoding = body, encoding

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        assert request.headers["accept-encoding"] == "gzip, deflate"
        return httpx.Response(200, headers={"content-encoding": self.encoding},
                              stream=httpx.ByteStream(self.body))


def _client(body: bytes, encoding: str) -> httpx.Client:
    return httpx.Client(transport=bounded(_Wire(body, encoding)))


@pytest.mark.parametrize("encoding,encode", [
    ("gzip", gzip.compress),
    ("gzip, gzip", lambda b: gzip.compress(gzip.compress(b))),
    ("deflate", zlib.compress),
    ("identity, gzip", gzip.compress),
])
def test_layered_bodies_decode_as_before(encoding: str, encode) -> None:
    raw = json.dumps(DOC).encode()
    assert _client(encode(raw), encoding).get("http://gw.test/").json() == DOC


def test_a_nested_gzip_bomb_read_whole_stops_at_the_cap_without_inflating_it_all() -> None:
    comp = zlib.compressobj(9, zlib.DEFLATED, zlib.MAX_WBITS | 16)
    layer = b"".join(comp.compress(bytes(2**20)) for _ in range(256)) + comp.flush()  # 256 MiB
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with pytest.raises(BodyTooLarge):
        _client(gzip.compress(layer), "gzip, gzip").get("http://gw.test/")
    grew_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert grew_mb < 3 * MAX_BODY / 2**20 + 20, grew_mb


def test_an_encoding_it_cannot_decode_is_passed_through_raw() -> None:
    response = _client(b"\x8b\x00not-brotli", "br").get("http://gw.test/")
    assert response.content == b"\x8b\x00not-brotli"
