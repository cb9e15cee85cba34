"""LiteLLM YAML with hostile aliases: a finding with file and line, in scan and validate, within
budget."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ._hostile import gw_env, run_gw

LAUGHS = "\n".join(
    ['a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    + [f"{c}: &{c} [{', '.join(['*' + p] * 9)}]" for p, c in zip("abcdefgh", "bcdefghi")]
    + ["model_list:", "  - model_name: laughs",
       "    litellm_params: {model: openai/x, api_base: *i}",
       "litellm_settings: {fallbacks: [{laughs: *i}]}",
       "router_settings: {model_group_alias: {big: *i}}"]) + "\n"

CASES = {
    "recursive-list": ("key: &r [*r]\n", 1, "recursive"),
    "recursive-in-model-list": ("model_list: &m\n  - model_name: a\n"
                                "    litellm_params: {model: x, extra: *m}\n", 3, "recursive"),
    "billion-laughs": (LAUGHS, None, "expand to more than"),
}


@pytest.mark.parametrize("command", ["scan", "validate"])
@pytest.mark.parametrize("case", CASES)
def test_hostile_aliases_are_a_finding_with_file_and_line(case: str, command: str,
                                                          tmp_path: Path) -> None:
    text, line, words = CASES[case]
    config = tmp_path / "litellm.yaml"
    config.write_text(text)
    args = ([command, "--offline", "--budget", "2", "--timeout", "0.5"] if command == "scan"
            else [command])
    run = run_gw([*args, "--gateway-config", str(config), "--format", "json"], gw_env(tmp_path),
                 tmp_path, timeout=120)
    assert run.code == 1, (run.code, run.stderr[-1500:])
    assert run.wall < 2 + 8 and run.maxrss_mb < 200, (run.wall, run.maxrss_mb)
    messages = [f["message"] for f in json.loads(run.stdout)["findings"]]
    hit = [m for m in messages if words in m and str(config) in m]
    assert hit, messages
    if line is not None:
        assert f"line {line}," in hit[0], hit[0]
    else:
        assert "line " in hit[0], hit[0]


def test_a_config_sharing_an_anchor_a_few_times_is_fine(tmp_path: Path) -> None:
    config = tmp_path / "litellm.yaml"
    config.write_text("x: &p {api_key: os.environ/K, rpm: 10}\nmodel_list:\n"
                      + "".join(f"  - model_name: m{i}\n"
                                f"    litellm_params: {{model: openai/m{i}}}\n"
                                for i in range(3))
                      + "router_settings: {a: *p, b: *p}\n")
    run = run_gw(["validate", "--gateway-config", str(config), "--format", "json"],
                 gw_env(tmp_path), tmp_path)
    messages = [f["message"] for f in json.loads(run.stdout)["findings"]]
    assert not [m for m in messages if "alias" in m], messages
