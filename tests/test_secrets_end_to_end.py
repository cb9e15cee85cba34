"""Secrets never leave: a live setup seeded with canary secrets, every output checked.

The canaries (gateway token, API key, apiKeyHelper output, proxy password,
custom header value) are real values the probes must use — the token and the
proxy password actually authenticate — yet none may appear in the facts bundle,
any report format, stderr, or a file gwdoctor writes.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

import pytest

CANARY_HEADER = "hdr-canary-5b1d7e0c"
CANARY_HELPER = "sk-helper-canary-93c2aa17"


def gw(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "gwdoctor.engine.cli", *args], env=env, cwd=cwd,
                          capture_output=True, text=True, timeout=120)


@pytest.mark.live
def test_no_canary_secret_appears_anywhere(litellm_gateway, squid, tmp_path: Path) -> None:
    home, project = tmp_path / "home", tmp_path / "project"
    (home / ".claude").mkdir(parents=True)
    project.mkdir()
    helper = tmp_path / "helper.sh"
    helper.write_text(f"#!/bin/sh\necho {CANARY_HELPER}\n")
    helper.chmod(0o755)
    # The API key only lives in the user settings file; the helper too.
    api_key = "sk-apikey-canary-0d4e61b2"
    (home / ".claude" / "settings.json").write_text(json.dumps({
        "apiKeyHelper": str(helper),
        "env": {"ANTHROPIC_API_KEY": api_key},
    }))
    token = litellm_gateway.master_key  # the token that really authenticates
    env = {
        "PATH": os.environ["PATH"], "HOME": str(home), "NO_COLOR": "1",
        "ANTHROPIC_BASE_URL": litellm_gateway.url,
        "ANTHROPIC_AUTH_TOKEN": token,
        "ANTHROPIC_CUSTOM_HEADERS": f"x-corp-key: {CANARY_HEADER}",
        "HTTPS_PROXY": squid.url(),  # squid's password is itself a canary with @ and :
        "GWDOCTOR_CACHE_DIR": str(tmp_path / "cache"),
    }
    canaries = [token, api_key, CANARY_HELPER, CANARY_HEADER, squid.password,
                quote(squid.password, safe="")]
    # ...and the forms a gateway or proxy may echo them in: the Basic blob squid receives,
    # base64, another letter case, the key body without "sk-".
    basic = base64.b64encode(f"{squid.user}:{squid.password}".encode()).decode()
    canaries += [basic, basic.rstrip("="), base64.b64encode(token.encode()).decode().rstrip("="),
                 token.upper(), api_key.upper(), token.removeprefix("sk-")]
    outputs: dict[str, str] = {}
    bundle = tmp_path / "facts.json"
    out = gw(["facts", "--output", str(bundle), "--timeout", "3"], env, project)
    assert out.returncode == 0, out.stderr
    outputs["facts bundle"] = bundle.read_text()
    outputs["facts stderr"] = out.stderr
    facts = json.loads(outputs["facts bundle"])["facts"]
    # The secrets were used, not merely dropped: the proxy let us through and the
    # gateway accepted the token.
    assert facts["proxy.connect"]["status"] == 200, facts["proxy.connect"]
    assert facts["gateway.models"]["status"] == 200, facts["gateway.models"]
    assert facts["auth.token"]["present"] and facts["auth.api_key"]["present"]
    for fmt in ("json", "text", "markdown", "sarif", "junit"):
        out = gw(["scan", "--format", fmt, "--fail-on", "never", "--timeout", "3", "-v"], env,
                 project)
        assert out.returncode == 0, out.stderr
        outputs[f"scan {fmt}"] = out.stdout
        outputs[f"scan {fmt} stderr"] = out.stderr
    out = gw(["scan", "--facts", str(bundle), "--format", "json", "--fail-on", "never"], env,
             project)
    outputs["replay"] = out.stdout
    for cache in (tmp_path / "cache").glob("*"):
        outputs[f"cache {cache.name}"] = cache.read_text()
    for name, text in outputs.items():
        for canary in canaries:
            assert canary not in text, f"a secret leaked into {name}"
