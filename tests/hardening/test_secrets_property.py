"""Property: whatever secret, and whatever a gateway or proxy URL does to it, no output shows it.

Generates tokens and echo transformations (case, prefix, suffix, cut by the excerpt limit,
base64, URL-encoding), serves them from a real loopback gateway as an error body, runs
a whole scan and checks the five report formats and the facts bundle. Also generates
proxy passwords with raw '@', '#', '/', '?' and ':' in them."""

from __future__ import annotations

import base64
import functools
import json
import string
import tempfile
from pathlib import Path
from urllib.parse import quote

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ._hostile import respond, serve
from ._outputs import scan_outputs

ALPHABET = string.ascii_letters + string.digits + "-_.+/="
tokens = st.text(ALPHABET, min_size=16, max_size=48).filter(
    lambda s: len(set(s)) >= 8 and any(c.isdigit() for c in s) and any(c.isalpha() for c in s))


def _echo(token: str, how: str, cut: int) -> str:
    """What the gateway sends back: the token after one transformation."""
    return {
        "upper": token.upper(), "lower": token.lower(), "swapcase": token.swapcase(),
        "prefix": token[:max(8, cut % len(token))], "suffix": token[-max(8, cut % len(token)):],
        "base64": base64.b64encode(token.encode()).decode(),
        "base64url": base64.urlsafe_b64encode(token.encode()).decode().rstrip("="),
        "urlencoded": quote(token, safe=""),
        "prefix-upper": token[:max(8, cut % len(token))].upper(),
    }[how]


def leaked(text: str, echo: str, baseline: str = "") -> list[str]:
    """Runs of the echo that survived: 8+ characters with a non-letter, or any 12+.

    A run of letters alone shorter than 12 is kept on purpose (engine.redact MIN_WORDLESS):
    a hand-made key that starts with a word must not erase that word from the report. A run
    the same scan shows with another token (``baseline``: rule docs, model names such as
    "-5-haiku") is the report's own text, not an echo."""
    low, sec, base = text.lower(), echo.lower(), baseline.lower()
    runs = [sec[i:i + 8] for i in range(len(sec) - 7) if not sec[i:i + 8].isalpha()]
    runs += [sec[i:i + 12] for i in range(len(sec) - 11)]
    return [r for r in runs if r in low and r not in base]


@functools.lru_cache(maxsize=1)
def _baseline() -> dict[str, str]:
    """The same scan with a token that shares nothing with generated ones."""
    return _scan_with("Zz~~baseline~~Zz", "Zz~~baseline~~Zz")


def _scan_with(token: str, echo: str, pad: int = 0) -> dict[str, str]:
    body = json.dumps({"error": {"type": "authentication_error",
                                 "message": "x" * pad + " key " + echo}}).encode()
    with tempfile.TemporaryDirectory() as tmp, \
            serve(lambda conn, head: respond(conn, "401 Unauthorized",
                                             {"content-type": "application/json"}, body)) as port:
        env = {"PATH": "/usr/bin:/bin", "HOME": tmp, "NO_PROXY": "*",
               "ANTHROPIC_BASE_URL": f"http://127.0.0.1:{port}", "ANTHROPIC_AUTH_TOKEN": token}
        return scan_outputs(env, Path(tmp), no_inference=True)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(token=tokens,
       how=st.sampled_from(["upper", "lower", "swapcase", "prefix", "suffix", "base64",
                            "base64url", "urlencoded", "prefix-upper"]),
       cut=st.integers(0, 200), pad=st.integers(0, 320))
def test_no_echo_of_a_generated_token_reaches_any_output(token: str, how: str, cut: int,
                                                         pad: int) -> None:
    echo = _echo(token, how, cut)
    # `pad` characters before it: from 0 to past the 300-character excerpt limit.
    outputs = _scan_with(token, echo, pad)
    for name, text in outputs.items():
        for form in {echo, token}:
            assert not leaked(text, form, _baseline()[name]), (name, how, leaked(text, form))


chunks = st.from_regex(r"[A-Z][a-z0-9]{5,10}[0-9]", fullmatch=True)
delimiters = st.sampled_from(["@", "#", "/", "?", ":"])


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(user=st.from_regex(r"[a-z]{2,6}", fullmatch=True),
       parts=st.lists(st.tuples(delimiters, chunks), min_size=1, max_size=4),
       first=chunks)
def test_no_piece_of_a_proxy_password_with_raw_delimiters_shows(user: str, parts,
                                                                first: str) -> None:
    password = first + "".join(d + c for d, c in parts)
    url = f"http://{user}:{password}@proxy.corp.example:3128"
    with tempfile.TemporaryDirectory() as tmp:
        env = {"PATH": "/usr/bin:/bin", "HOME": tmp, "HTTPS_PROXY": url,
               "ANTHROPIC_BASE_URL": "https://gw.example.invalid"}
        outputs = scan_outputs(env, Path(tmp), offline=True)
    for name, text in outputs.items():
        for chunk in [first, *(c for _, c in parts)]:
            assert chunk not in text, (name, url, chunk)
