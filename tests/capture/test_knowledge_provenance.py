"""knowledge/client.yaml against the captures: every captured value is cited and load-bearing.

- A ``capture:`` entry names, for each key it sets, the capture test file whose cases show it
  at that entry's version (``shows``), and nothing else.
- Deleting or altering any value of a capture entry (each key, and each sub-key of a mapping)
  makes gwdoctor's prediction disagree with the real client on at least one captured case of
  that file: the value is what the client does, not a belief the tests happen to share.
"""

from __future__ import annotations

import copy
import functools
import importlib
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest
import yaml
from _capture import (
    Capture,
    Case,
    predict,
    predict_live,
    predicted_model,
    predicted_retirement,
    retirement_said,
)
from gwdoctor.engine.knowledge import merge_behaviour, parse_version
from test_requests import SAME
from test_routes import went_through_proxy

REPO = Path(__file__).resolve().parents[2]
DATA = yaml.safe_load((REPO / "knowledge/client.yaml").read_text())
CAPTURE_ENTRIES = [(i, e) for i, e in enumerate(DATA["behaviours"])
                   if e["source"].startswith("capture:")]
MODULES = {"tests/capture/test_models.py": "test_models",
           "tests/capture/test_requests.py": "test_requests",
           "tests/capture/test_routes.py": "test_routes",
           "tests/capture/test_trust.py": "test_trust",
           "tests/capture/test_helper.py": "test_helper",
           "tests/capture/test_provider_aliases.py": "test_provider_aliases",
           "tests/capture/test_request_size.py": "test_request_size"}


def _cases(path: str) -> list[Case]:
    return list(importlib.import_module(MODULES[path]).CASES)


def _shows(case: Case, key: str) -> bool:
    return any(s == key or s.startswith(key + ".") or key.startswith(s + ".") for s in case.shows)


def test_captured_versions_are_the_pinned_ones() -> None:
    from _capture import VERSIONS

    assert sorted(DATA["captured_versions"]) == sorted(VERSIONS)
    assert {e["since"] for _, e in CAPTURE_ENTRIES} <= set(VERSIONS)


@pytest.mark.parametrize("index,entry", CAPTURE_ENTRIES,
                         ids=lambda x: str(x) if isinstance(x, int) else x["since"])
def test_every_captured_key_names_the_cases_that_show_it(index: int,
                                                         entry: dict[str, Any]) -> None:
    assert set(entry["shown_by"]) == set(entry["set"]), "shown_by must list exactly the keys set"
    for key, path in entry["shown_by"].items():
        assert (REPO / path).is_file() and path in MODULES, path
        showing = [c for c in _cases(path) if _shows(c, key) and entry["since"] in c.versions]
        assert showing, f"{path} has no case that shows {key} on {entry['since']}"


def _alter(value: Any) -> Any:
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return value // 2
    if isinstance(value, str):
        return value + "-altered"
    if isinstance(value, list):
        return value[:-1] if len(value) > 1 else ["ALTERED_VALUE"]
    if isinstance(value, dict):
        return {k + "-altered": v for k, v in value.items()}
    return None


def _delete(key: str, sub: str | None, settings: dict[str, Any]) -> None:
    (settings if sub is None else settings[key]).pop(key if sub is None else sub)


def _change(key: str, sub: str | None, settings: dict[str, Any]) -> None:
    target, name = (settings, key) if sub is None else (settings[key], sub)
    target[name] = _alter(target[name])


def _mutations(
        entry: dict[str, Any]) -> Iterator[tuple[str, str, Callable[[dict[str, Any]], None]]]:
    """(key, description, edit) for every value of the entry: delete it, alter it."""
    for key, value in entry["set"].items():
        yield key, f"delete {key}", functools.partial(_delete, key, None)
        yield key, f"alter {key}", functools.partial(_change, key, None)
        if isinstance(value, dict):
            for sub in value:
                yield f"{key}.{sub}", f"delete {key}.{sub}", functools.partial(_delete, key, sub)
                yield f"{key}.{sub}", f"alter {key}.{sub}", functools.partial(_change, key, sub)


MUTATIONS = [(i, key, what, edit) for i, e in CAPTURE_ENTRIES for key, what, edit in _mutations(e)]


def _agrees(path: str, cap: Capture, behaviour: dict[str, Any], pki: Any) -> bool:
    try:
        if path.endswith("test_models.py"):
            facts = predict(cap, behaviour=behaviour)
            return predicted_model(cap, facts) == cap.sent_model and \
                predicted_retirement(cap, facts) == retirement_said(cap)
        if path.endswith("test_routes.py"):
            return (bool(predict(cap, behaviour=behaviour)["proxy.route"]["used"])
                    == went_through_proxy(cap))
        if path.endswith("test_provider_aliases.py"):
            from test_provider_aliases import agrees

            return agrees(cap, behaviour)
        if path.endswith("test_request_size.py"):
            from test_request_size import agrees as size_agrees

            return size_agrees(cap, behaviour)
        if path.endswith("test_helper.py"):
            from test_helper import client_sent_the_key, predicts_the_key_is_sent

            return (predicts_the_key_is_sent(predict(cap, behaviour=behaviour))
                    == client_sent_the_key(cap))
        if path.endswith("test_trust.py"):
            facts, _ = predict_live(cap, behaviour=behaviour, pki=pki, probes=("tls.gateway",))
            return bool((facts.get("tls.verify.client") or {}).get("trusted")) == \
                (cap.rc == 0 and bool(cap.messages))
        facts, sent = predict_live(cap, behaviour=behaviour)
        mine = [e for e in sent if e.method == "POST" and e.path.endswith("/v1/messages")]
        client = cap.messages[-1]
        return bool(mine) and (mine[0].path, mine[0].query) == (client.path, client.query) and all(
            mine[0].headers.get(h) == client.headers.get(h) for h in SAME)
    except (AssertionError, KeyError, TypeError, ValueError, AttributeError):
        return False  # a prediction that cannot be made with this knowledge disagrees too


@pytest.mark.client
@pytest.mark.parametrize("index,key,what,edit", MUTATIONS,
                         ids=lambda x: x if isinstance(x, str) else None)
def test_changing_a_captured_value_breaks_agreement_with_the_client(
        index: int, key: str, what: str, edit: Callable[[dict[str, Any]], None],
        captured: Callable[[Case, str], Capture], net_pki: Any) -> None:
    entry = DATA["behaviours"][index]
    mutated = copy.deepcopy(DATA)
    edit(mutated["behaviours"][index]["set"])
    changed = [v for v in DATA["captured_versions"]
               if merge_behaviour(mutated, v) != merge_behaviour(DATA, v)]
    assert changed, f"{what} in the {entry['since']} entry changes nothing: the value is redundant"
    path = entry["shown_by"][key.split(".")[0]]
    tried = []
    for version in changed:
        behaviour = merge_behaviour(mutated, version)
        for case in _cases(path):
            if version in case.versions and _shows(case, key):
                tried.append(f"{case.id}@{version}")
                cap = captured(case, version)
                if not _agrees(path, cap, behaviour, net_pki):
                    return
    pytest.fail(f"with '{what}' in the {entry['since']} entry gwdoctor still agrees with the "
                f"client on every case that shows it ({', '.join(tried) or 'none'}): "
                "no capture tests it")


def test_versions_in_the_knowledge_parse() -> None:
    for entry in DATA["behaviours"]:
        assert parse_version(entry["since"]) is not None
