"""Read a LiteLLM proxy config.yaml without executing it: safe YAML, node marks for lines,
bounded walks."""

from __future__ import annotations

import functools
import re
from pathlib import Path
from typing import Any, Iterator, Mapping

from gwdoctor.engine import Vault, describe_secret

from ._io import read_file
from ._lazy import yaml  # only a scan given --gateway-config parses YAML
from ._litellm_routing import provider_hint, provider_of
from ._secret_names import litellm_secret_param

__all__ = ["parse_litellm_config"]

MAX_BYTES = 4 * 1024 * 1024
# Aliases can make a small file a huge tree ("billion laughs"): stop walking after this many nodes.
MAX_NODES = 100_000
MAX_DEPTH = 40
PUBLICLY_KNOWN = {"sk-1234"}  # LiteLLM's PUBLICLY_KNOWN_MASTER_KEYS (master_key_boot_check.py)
# What lets LiteLLM start with a weak or unset master key: (config key, environment
# variable). 1.108.7 (the lab's, read in master_key_boot_check.py) uses the first pair;
# 1.110.2 (client-and-gateway-facts.md §2.3) the second.
UNSAFE_OVERRIDES = (
    ("dangerously_permit_weak_or_unset_master_key",
     "LITELLM_DANGEROUSLY_PERMIT_WEAK_OR_UNSET_MASTER_KEY"),
    ("dangerously_allow_unsafe_proxy", "LITELLM_DANGEROUSLY_ALLOW_UNSAFE_PROXY"),
)
_SHELL_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)[^}]*\}")

# Where each setting belongs. Keys valid in more than one section (num_retries, fallbacks,
# timeout) are left out so they are never reported as misplaced.
SECTIONS: dict[str, set[str]] = {
    "general_settings": {"master_key", "database_url", "forward_client_headers_to_llm_api",
                         "litellm_key_header_name", "background_health_checks",
                         "health_check_interval", "allow_requests_on_db_unavailable",
                         "store_model_in_db", "alerting", "custom_auth",
                         "disable_master_key_return", "database_connection_pool_limit",
                         "dangerously_allow_unsafe_proxy",
                         "dangerously_permit_weak_or_unset_master_key", "ui_access_mode",
                         "public_routes", "pass_through_endpoints", "user_header_name",
                         "enforce_user_param"},
    "litellm_settings": {"drop_params", "set_verbose", "json_logs", "success_callback",
                         "failure_callback", "callbacks", "cache", "cache_params",
                         "context_window_fallbacks", "content_policy_fallbacks",
                         "model_group_settings", "modify_params", "turn_off_message_logging",
                         "request_timeout", "use_chat_completions_url_for_anthropic_messages"},
    "router_settings": {"routing_strategy", "model_group_alias", "allowed_fails", "cooldown_time",
                        "redis_host", "redis_port", "redis_password", "enable_pre_call_checks",
                        "retry_policy", "allowed_fails_policy", "routing_strategy_args"},
    "litellm_params": {"model", "api_key", "api_base", "api_version", "vertex_project",
                       "vertex_location", "vertex_credentials", "vertex_ai_project",
                       "vertex_ai_location", "vertex_ai_credentials", "aws_region_name",
                       "aws_access_key_id", "aws_secret_access_key", "aws_session_token",
                       "aws_profile_name", "custom_llm_provider", "rpm", "tpm"},
}


def _error(message: str, line: int | None = None, column: int | None = None) -> dict[str, Any]:
    return {"line": line, "column": column, "message": message[:300]}


def _walk(node: yaml.Node, path: str, depth: int,
          budget: list[int]) -> Iterator[tuple[str, yaml.Node]]:
    """(key path, node) pairs, depth-first, within the node budget."""
    budget[0] -= 1
    if budget[0] < 0 or depth > MAX_DEPTH:
        return
    yield path, node
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            name = key.value if isinstance(key, yaml.ScalarNode) else "?"
            yield from _walk(value, f"{path}.{name}" if path else str(name), depth + 1, budget)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            yield from _walk(item, f"{path}[{i}]", depth + 1, budget)


class AliasError(ValueError):
    """A recursive alias, or aliases that expand past MAX_NODES; ``mark`` is the alias."""

    def __init__(self, message: str, mark: Any) -> None:
        super().__init__(message)
        self.mark = mark


@functools.lru_cache(maxsize=1)
def _loader_class() -> type:
    class Loader(yaml.SafeLoader):  # type: ignore[name-defined,misc]
        """SafeLoader that remembers where each alias is used (anchor, mark, target node)."""

        def __init__(self, text: str) -> None:
            super().__init__(text)
            self.alias_uses: list[tuple[str, Any, Any]] = []

        def compose_node(self, parent: Any, index: Any) -> Any:
            if self.check_event(yaml.AliasEvent):
                event = self.peek_event()
                if event.anchor in self.anchors:
                    self.alias_uses.append((event.anchor, event.start_mark,
                                            self.anchors[event.anchor]))
            return super().compose_node(parent, index)

    return Loader


def _children(node: Any) -> list[Any]:
    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


def _check_aliases(root: Any, uses: list[tuple[str, Any, Any]]) -> None:
    """Raise AliasError for an alias inside its own anchor (`key: &r [*r]`) or for aliases
    whose expansion passes MAX_NODES (billion laughs: 10 lines, 10^9 nodes once a fact or
    a JSON dump walks them). Iterative: the graph is walked once, each node sized once."""
    if not uses:
        return
    by_target: dict[int, tuple[str, Any]] = {}
    for anchor, mark, target in uses:
        by_target.setdefault(id(target), (anchor, mark))
    size: dict[int, int] = {}
    path: set[int] = set()
    stack: list[tuple[Any, bool]] = [(root, False)]
    while stack:
        node, leaving = stack.pop()
        key = id(node)
        if leaving:
            path.discard(key)
            size[key] = 1 + sum(size[id(c)] for c in _children(node))
            if size[key] > MAX_NODES:
                # Name the alias that costs most so far (the first one when none is sized).
                sized = [u for u in uses if id(u[2]) in size] or uses[:1]
                anchor, mark, _target = max(sized, key=lambda u: size.get(id(u[2]), 0))
                raise AliasError(f"YAML aliases expand to more than {MAX_NODES:,} nodes "
                                 f"(alias *{anchor})", mark)
            continue
        if key in size:
            continue
        path.add(key)
        stack.append((node, True))
        for child in _children(node):
            if id(child) in path:
                anchor, mark = by_target.get(id(child), ("?", node.start_mark))
                raise AliasError(f"recursive YAML alias: *{anchor} is inside its own anchor", mark)
            if id(child) not in size:
                stack.append((child, False))


def _load(text: str) -> tuple[Any, dict[str, yaml.Node]]:
    loader = _loader_class()(text)
    try:
        node = loader.get_single_node()
        if node is not None:
            _check_aliases(node, loader.alias_uses)
        data = loader.construct_document(node) if node is not None else None
    finally:
        loader.dispose()
    nodes = dict(_walk(node, "", 0, [MAX_NODES])) if node is not None else {}
    return data, nodes


def _line(nodes: Mapping[str, yaml.Node], path: str) -> int | None:
    node = nodes.get(path)
    return node.start_mark.line + 1 if node is not None else None


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _param_view(key: str, value: Any) -> Any:
    if isinstance(value, str) and value.startswith("os.environ/"):
        return value
    if litellm_secret_param().search(str(key)) and isinstance(value, str):
        return describe_secret(value)
    return (value if isinstance(value, (str, int, float, bool)) or value is None
            else str(type(value).__name__))


def _models(data: dict[str, Any],
            nodes: Mapping[str, yaml.Node]) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    raw = data.get("model_list")
    if raw is None:
        return [], None
    if not isinstance(raw, list):
        return [], _error("model_list must be a list of models", _line(nodes, "model_list"))
    models, problem = [], None
    for i, item in enumerate(raw):
        where = f"model_list[{i}]"
        params = _dict(item.get("litellm_params")) if isinstance(item, dict) else {}
        model = params.get("model")
        if not isinstance(item, dict) or not item.get("model_name") or not isinstance(model, str):
            problem = problem or _error(f"{where} needs model_name and litellm_params.model",
                                        _line(nodes, where))
            if not isinstance(item, dict):
                continue
        provider, via = provider_of(model, params)
        models.append({"model_name": str(item.get("model_name")), "provider": provider,
                       "provider_via": via,
                       "provider_hint": provider_hint(params) if via is None else None,
                       "model": model if isinstance(model, str) else None,
                       "params": {str(k): _param_view(k, v) for k, v in params.items()
                                  if k != "model"},
                       "line": _line(nodes, where)})
    return models, problem


def _env_refs(nodes: Mapping[str, yaml.Node], env: Mapping[str, str]) -> list[dict[str, Any]]:
    refs = []
    for path, node in nodes.items():
        if not isinstance(node, yaml.ScalarNode) or not isinstance(node.value, str):
            continue
        value = node.value.strip()
        line = node.start_mark.line + 1
        if value.startswith("os.environ/"):
            var = value[len("os.environ/"):]
            refs.append({"var": var, "set": bool(env.get(var)), "key_path": path, "line": line,
                         "shell_style": False})
        for var in _SHELL_REF.findall(value):
            refs.append({"var": var, "set": bool(env.get(var)), "key_path": path, "line": line,
                         "shell_style": True})
    return refs


def _resolve(value: Any, env: Mapping[str, str]) -> tuple[str | None, str | None]:
    """(resolved value, env var referenced) for a config value."""
    if isinstance(value, str) and value.startswith("os.environ/"):
        var = value[len("os.environ/"):]
        return env.get(var) or None, var
    return (str(value) if value not in (None, "") else None), None


def _truthy(value: Any) -> bool:
    return value is True or str(value).strip().lower() == "true"


def _secret_part(value: str | None) -> str | None:
    """What of a configured master key is secret. Not the documented sk-1234, nor a
    docker-compose style ``${VAR}``, which LiteLLM never expands: both are literals anyone
    reading the file knows, and the finding must be able to name them. Of a
    ``${VAR:-default}``, the default is a real key."""
    if value in PUBLICLY_KNOWN:
        return None  # printed in LiteLLM's docs: the finding must be able to say which
    match = _SHELL_REF.fullmatch(value or "")
    if not match:
        return value
    _, sep, default = (value or "")[2:-1].partition("-")
    return default.lstrip("-") or None if sep else None


def _master_key(data: dict[str, Any], nodes: Mapping[str, yaml.Node], env: Mapping[str, str],
                vault: Vault) -> dict[str, Any]:
    general, settings = _dict(data.get("general_settings")), _dict(data.get("litellm_settings"))
    env_key = env.get("LITELLM_MASTER_KEY") or None
    if "master_key" in general:
        placement, path, configured = ("general_settings", "general_settings.master_key",
                                       general["master_key"])
    elif "master_key" in settings:
        placement, path, configured = ("litellm_settings", "litellm_settings.master_key",
                                       settings["master_key"])
    elif env_key:
        placement, path, configured = "env", None, env_key
    else:
        placement, path, configured = "missing", None, None
    value, ref = _resolve(configured, env)
    vault.put("gateway_config.master_key", _secret_part(value))
    unsafe = any(_truthy(general.get(name)) or _truthy(env.get(var))
                 for name, var in UNSAFE_OVERRIDES)
    return {"placement": placement, "line": _line(nodes, path) if path else None, "env_ref": ref,
            "publicly_known": value in PUBLICLY_KNOWN, "empty": value is None,
            "starts_with_sk": value.startswith("sk-") if value else None,
            "env_fallback": env_key is not None, "allow_unsafe": unsafe}


def _misplaced(data: dict[str, Any], nodes: Mapping[str, yaml.Node]) -> list[dict[str, Any]]:
    home = {key: section for section, keys in SECTIONS.items() for key in keys}
    out: list[dict[str, Any]] = []

    def check(found_in: str, prefix: str, mapping: dict[str, Any], model_item: bool) -> None:
        for key in mapping:
            belongs = home.get(str(key))
            # Inside a model_list item only litellm_params keys can be misplaced; elsewhere
            # only the three settings sections' keys.
            if (belongs is None or belongs == found_in
                    or model_item != (belongs == "litellm_params")):
                continue
            out.append({"key": str(key), "found_in": found_in, "belongs_in": belongs,
                        "line": _line(nodes, f"{prefix}.{key}" if prefix else str(key))})

    check("top level", "", data, False)
    for section in ("general_settings", "litellm_settings", "router_settings"):
        check(section, section, _dict(data.get(section)), False)
    items = data.get("model_list")
    for i, item in enumerate(items if isinstance(items, list) else []):
        check(f"model_list[{i}]", f"model_list[{i}]", _dict(item), True)
    return out


def _fallbacks(data: dict[str, Any], nodes: Mapping[str, yaml.Node]) -> list[dict[str, Any]]:
    out = []
    for section in ("litellm_settings", "router_settings"):
        for kind in ("fallbacks", "context_window_fallbacks", "content_policy_fallbacks"):
            items = _dict(data.get(section)).get(kind)
            for i, item in enumerate(items if isinstance(items, list) else []):
                for model, targets in _dict(item).items():
                    to = targets if isinstance(targets, list) else [targets]
                    out.append({"section": section, "kind": kind, "model": str(model),
                                "to": [str(t) for t in to],
                                "line": _line(nodes, f"{section}.{kind}[{i}]")})
    return out


def _aliases(data: dict[str, Any], nodes: Mapping[str, yaml.Node]) -> list[dict[str, Any]]:
    table = _dict(_dict(data.get("router_settings")).get("model_group_alias"))
    out = []
    for alias, target in table.items():
        if isinstance(target, dict):
            target = target.get("model")
        out.append({"alias": str(alias), "target": str(target),
                    "line": _line(nodes, f"router_settings.model_group_alias.{alias}")})
    return out


def _header_forwarding(data: dict[str, Any]) -> dict[str, Any]:
    general = _dict(data.get("general_settings"))
    groups = _dict(_dict(data.get("litellm_settings")).get("model_group_settings")).get(
        "forward_client_headers_to_llm_api")
    return {"all_models": general.get("forward_client_headers_to_llm_api"),
            "model_groups": [str(g) for g in groups] if isinstance(groups, list) else None,
            "provider_auth_headers": general.get("forward_llm_provider_auth_headers"),
            "key_header_name": general.get("litellm_key_header_name")}


def parse_litellm_config(path: Path, env: Mapping[str, str], vault: Vault) -> dict[str, Any]:
    """Every ``gateway_config.*`` fact; on a fatal error only path and error are filled."""
    facts: dict[str, Any] = {k: None for k in (
        "gateway_config.models", "gateway_config.env_refs", "gateway_config.master_key",
        "gateway_config.misplaced_keys", "gateway_config.fallbacks", "gateway_config.aliases",
        "gateway_config.header_forwarding")}
    facts.update({"gateway_config.path": str(path), "gateway_config.error": None})
    # Bounded (_io): a FIFO or a device (/dev/zero) is a problem, never a read.
    read = read_file(path, "gateway_config")
    if not read.ok:
        problem = read.problem or "unreadable"
        facts["gateway_config.error"] = _error(
            "unreadable: no such file" if read.missing else
            f"file is {problem}" if problem.startswith("larger") else f"unreadable: {problem}")
        return facts
    raw = read.data or b""
    try:
        if b"\0" in raw:
            raise UnicodeDecodeError("utf-8", raw, raw.index(b"\0"), raw.index(b"\0") + 1,
                                     "NUL byte")
        text = raw.decode("utf-8-sig")
        data, nodes = _load(text)
    except UnicodeDecodeError as exc:
        facts["gateway_config.error"] = _error(f"binary or non-UTF-8 file (byte {exc.start})")
        return facts
    except AliasError as exc:
        mark = exc.mark
        facts["gateway_config.error"] = _error(
            str(exc), mark.line + 1 if mark else None, mark.column + 1 if mark else None)
        return facts
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        message = " ".join(filter(None, [exc.context, exc.problem])) or "invalid YAML"
        facts["gateway_config.error"] = _error(
            message, mark.line + 1 if mark else None, mark.column + 1 if mark else None)
        return facts
    except (yaml.YAMLError, RecursionError, MemoryError, ValueError) as exc:
        facts["gateway_config.error"] = _error(f"invalid YAML: {type(exc).__name__}")
        return facts
    if not isinstance(data, dict):
        facts["gateway_config.error"] = _error("top level is not a mapping of settings", 1, 1)
        return facts
    models, model_problem = _models(data, nodes)
    facts.update({
        "gateway_config.error": model_problem,
        "gateway_config.models": models,
        "gateway_config.env_refs": _env_refs(nodes, env),
        "gateway_config.master_key": _master_key(data, nodes, env, vault),
        "gateway_config.misplaced_keys": _misplaced(data, nodes),
        "gateway_config.fallbacks": _fallbacks(data, nodes),
        "gateway_config.aliases": _aliases(data, nodes),
        "gateway_config.header_forwarding": _header_forwarding(data),
    })
    return facts
