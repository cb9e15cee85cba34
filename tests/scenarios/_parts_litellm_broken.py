"""A second real LiteLLM 1.108.7 with a broken config, `gw:litellm_no_provider` (practice set case
33, BerriAI/litellm#11755): every model the client sends is served by an entry whose
``litellm_params.model`` has no provider prefix (``gpt-4o-deployment``, not
``azure/gpt-4o-deployment``), so LiteLLM answers "LLM Provider NOT provided". Registered into
``_parts.SCENARIO_GATEWAY_MODES`` on import (the scenario conftest imports it)."""

from __future__ import annotations

import atexit
import threading

from _parts import SCENARIO_GATEWAY_MODES, relay_to_litellm

__all__ = ["UNPREFIXED_MODEL", "no_provider_litellm"]

# The deployment name of #11755, written without its `azure/` prefix. api_base leads to the lab's
# fake upstream, which the request never reaches: LiteLLM cannot pick a provider for it.
UNPREFIXED_MODEL = "gpt-4o-deployment"
_LAB: dict[str, object] = {}
_LOCK = threading.Lock()


def no_provider_litellm() -> dict[str, object]:
    """``{"litellm", "fake"}``: the broken-config LiteLLM and its fake upstream, started once per
    test process on first use and stopped when it exits (start_litellm registers the stop)."""
    with _LOCK:
        if _LAB:
            return _LAB
        from live._client_truth import client_models
        from live._fake_upstream import start_fake_upstream
        from live._litellm import start_litellm

        fake = start_fake_upstream()
        atexit.register(fake.stop)
        # The names the pinned client really sends (captured), each served by the broken entry.
        served = dict.fromkeys(client_models().values())
        config = {
            "model_list": [{"model_name": name, "litellm_params": {
                "model": UNPREFIXED_MODEL, "api_base": fake.url,
                "api_key": "sk-fake-upstream-key"}} for name in served],
            "litellm_settings": {"num_retries": 0, "request_timeout": 5},
            "general_settings": {"master_key": "sk-right-key"},
        }
        _LAB.update(litellm=start_litellm(config), fake=fake)
        return _LAB


SCENARIO_GATEWAY_MODES["litellm_no_provider"] = relay_to_litellm(no_provider_litellm)
