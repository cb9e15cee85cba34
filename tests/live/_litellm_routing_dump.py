"""Print, as YAML, how the lab's LiteLLM picks a model entry's provider: the data of
knowledge/litellm_routing.yaml. Run with LiteLLM's own python (not gwdoctor's), by
tests/live/test_litellm_routing.py; to regenerate the file after a LiteLLM upgrade, paste its
output under the file's header."""
import sys

import litellm
import yaml
from litellm.litellm_core_utils import fallback_generalizations as fg
from litellm.litellm_core_utils import get_llm_provider_logic as g

litellm.suppress_debug_info = True
patterns = [{"match": r.pattern.pattern, "provider": r.provider}
            for r in fg._registry.routing_rules]
candidates = {k for k in litellm.model_cost if "/" not in k}
for attr in dir(litellm):
    v = getattr(litellm, attr)
    if attr.endswith("_models") and isinstance(v, (list, set)):
        candidates |= {m for m in v if isinstance(m, str) and "/" not in m}
names: dict[str, list[str]] = {}
for n in sorted(candidates):
    if fg.match_routing_generalization(n):
        try:
            # the pattern covers it only if no exact list claims it first
            p = g.get_llm_provider(model=n)[1]
        except Exception:
            continue
        if p == fg.match_routing_generalization(n):
            continue
    try:
        p = g.get_llm_provider(model=n)[1]
    except Exception:
        continue
    names.setdefault(str(getattr(p, "value", p)), []).append(n)
data = {"providers": sorted(str(getattr(p, "value", p)) for p in litellm.provider_list),
        "api_bases": list(litellm.openai_compatible_endpoints),
        "patterns": patterns + [
            {"match": r"ft:gpt-(3\.5-turbo|4)", "provider": "openai"},
            {"match": r"^gpt-image", "provider": "openai"},
            {"match": r"^\*$", "provider": "openai"}],
        "names": {p: sorted(v) for p, v in sorted(names.items())}}
yaml.safe_dump(data, sys.stdout, width=98, sort_keys=False, default_flow_style=None)
print(sum(len(v) for v in names.values()), file=sys.stderr)
