"""The provider-mode LiteLLM part (issue 12), `gw:litellm_provider`: a real LiteLLM 1.108.7 whose
/bedrock and /vertex_ai pass-through routes lead to the fake Bedrock runtime and Vertex endpoint
of live/_provider_fake.py. Registered into ``_parts.SCENARIO_GATEWAY_MODES`` on import (the
scenario conftest imports it)."""

from __future__ import annotations

import tempfile
import threading
from pathlib import Path

from _parts import SCENARIO_GATEWAY_MODES, relay_to_litellm

__all__ = ["PROVIDER_BEDROCK_IDS", "provider_litellm"]

# A real LiteLLM 1.108.7 whose /bedrock and /vertex_ai pass-through routes lead to the fake Bedrock
# runtime and Vertex endpoint of live/_provider_fake.py (which check path, model id, region, project
# and credential header, and answer in the provider's wire format). `gw:litellm_provider` is a plain
# TCP relay in front of it (the scenario gateway machinery starts handlers, not processes), so the
# client and gwdoctor talk to LiteLLM itself. Started once per test process, on first use; the
# master key is the `gw.<mode>.key` the harness hands out (sk-right-key).
PROVIDER_BEDROCK_IDS = ("us.anthropic.claude-opus-5-5",
                        "us.anthropic.claude-sonnet-4-5-20250929-v1:0",
                        "us.anthropic.claude-haiku-4-5-20251001-v1:0",
                        # fault tokens for the fake: 403 access, 429 quota, 403 bad signature,
                        # on-demand 400
                        "us.anthropic.claude-denied-5-5", "us.anthropic.claude-throttled-5-5",
                        "us.anthropic.claude-badcreds-5-5", "anthropic.claude-opus-5-5")
_PROVIDER_LAB: dict[str, object] = {}
_PROVIDER_LOCK = threading.Lock()


def provider_litellm() -> dict[str, object]:
    """``{"litellm", "fake", "proxy"}``: the provider-mode lab, started once."""
    with _PROVIDER_LOCK:
        if _PROVIDER_LAB:
            return _PROVIDER_LAB
        from live._litellm import start_litellm
        from live._provider_fake import CloudProxy, ProviderFake

        fake = ProviderFake(pki_dir=Path(tempfile.mkdtemp(prefix="gwdoctor-fake-cloud-"))).start()
        proxy = CloudProxy(fake.tls_port)
        aws = {"aws_access_key_id": "AKIAIOSFODNN7EXAMPLE",
               "aws_secret_access_key": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"}
        config = {
            "model_list": [{"model_name": i, "litellm_params": {
                "model": f"bedrock/{i}", "aws_bedrock_runtime_endpoint": fake.url,
                "aws_region_name": "us-east-1", **aws}} for i in PROVIDER_BEDROCK_IDS],
            "litellm_settings": {"num_retries": 0, "request_timeout": 5},
            "general_settings": {"master_key": "sk-right-key"},
        }
        # Vertex: no Vertex credential on the proxy, so LiteLLM forwards the caller's own Google
        # token (its credential-less pass-through) to https://<region>-aiplatform.googleapis.com,
        # which CloudProxy leads to the fake (SSL_CERT_FILE trusts the fake's certificate).
        env = {"AIOHTTP_TRUST_ENV": "True", "HTTPS_PROXY": proxy.url,
               "NO_PROXY": "127.0.0.1,localhost", "SSL_CERT_FILE": str(fake.ca_file)}
        _PROVIDER_LAB.update(litellm=start_litellm(config, env=env), fake=fake, proxy=proxy)
        return _PROVIDER_LAB


SCENARIO_GATEWAY_MODES["litellm_provider"] = relay_to_litellm(provider_litellm)
