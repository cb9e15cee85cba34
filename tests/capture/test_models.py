"""Which model the real client sends, per alias, variable, settings file and version, against
what gwdoctor predicts (``model.requested``). A wrong prediction fails here."""

from __future__ import annotations

from typing import Any, Callable

import pytest
from _capture import (
    Capture,
    Case,
    predict,
    predicted_model,
    predicted_retirement,
    retirement_said,
)

S, M = "default_models", "default_main_alias"
CASES = [
    Case("no-model-set", (M, "default_models.opus")),
    Case("model-opus", ("default_models.opus",), model="opus"),
    Case("model-sonnet", ("default_models.sonnet",), model="sonnet"),
    Case("model-haiku", ("default_models.haiku",), model="haiku"),
    Case("model-default", (M, "default_models.opus"), model="default"),
    Case("model-opusplan-in-print-mode", ("default_models.sonnet",), model="opusplan"),
    Case("env-model-sonnet", ("default_models.sonnet",), env={"ANTHROPIC_MODEL": "sonnet"}),
    Case("default-opus-variable-changes-the-default", (M, "alias_variables.opus"),
         env={"ANTHROPIC_DEFAULT_OPUS_MODEL": "gw-opus"}),
    Case("default-sonnet-variable", ("alias_variables.sonnet",), model="sonnet",
         env={"ANTHROPIC_DEFAULT_SONNET_MODEL": "gw-sonnet"}),
    Case("default-haiku-variable", ("alias_variables.haiku",), model="haiku",
         env={"ANTHROPIC_DEFAULT_HAIKU_MODEL": "gw-haiku"}),
    Case("small-fast-variable-leaves-the-haiku-alias", ("alias_variables.haiku",), model="haiku",
         env={"ANTHROPIC_SMALL_FAST_MODEL": "gw-small-fast"}),
    Case("legacy-opus-remapped", ("legacy_remap.claude-opus-4-1",), model="claude-opus-4-1"),
    Case("legacy-dated-opus-remapped", ("legacy_remap.claude-opus-4-1",),
         env={"ANTHROPIC_MODEL": "claude-opus-4-1-20250805"}),
    Case("legacy-remap-disabled", ("legacy_remap.claude-opus-4-1",), model="claude-opus-4-1",
         env={"CLAUDE_CODE_DISABLE_LEGACY_MODEL_REMAP": "1"}),
    Case("newer-opus-not-remapped", (), model="claude-opus-4-6"),
    Case("retired-model-still-sent", ("retired_models.claude-sonnet-4-5",),
         model="claude-sonnet-4-5"),
    Case("retired-dated-sonnet-4-5", ("retired_models.claude-sonnet-4-5",),
         model="claude-sonnet-4-5-20250929"),
    Case("retired-claude-3-opus", ("retired_models.claude-3-opus",),
         model="claude-3-opus-20240229"),
    Case("retired-claude-3-5-haiku", ("retired_models.claude-3-5-haiku",),
         model="claude-3-5-haiku-20241022"),
    Case("retired-claude-3-7-sonnet", ("retired_models.claude-3-7-sonnet",),
         model="claude-3-7-sonnet-20250219"),
    Case("retired-claude-sonnet-4", ("retired_models.claude-sonnet-4",),
         model="claude-sonnet-4-20250514"),
    Case("retired-claude-opus-4", ("retired_models.claude-opus-4",), model="claude-opus-4-20250514",
         env={"CLAUDE_CODE_DISABLE_LEGACY_MODEL_REMAP": "1"}),
    Case("current-sonnet-4-6-not-retired", ("retired_models",), model="claude-sonnet-4-6"),
    Case("settings-model-alias", ("default_models.sonnet",), user_settings={"model": "sonnet"}),
    Case("settings-env-model-overrides-shell", (), env={"ANTHROPIC_MODEL": "shell-model"},
         user_settings={"env": {"ANTHROPIC_MODEL": "settings-model"}}),
    Case("settings-empty-model-unsets-shell", ("settings_empty_value_unsets",),
         env={"ANTHROPIC_MODEL": "shell-model"}, user_settings={"env": {"ANTHROPIC_MODEL": ""}},
    ),
]



@pytest.mark.client
@pytest.mark.parametrize("version", ["2.1.332", "2.1.197"])
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_gwdoctor_predicts_the_model_the_client_sends(
        case: Case, version: str, captured: Callable[[Case, str], Capture]) -> None:
    if version not in case.versions:
        pytest.skip(f"{case.id} is captured on {', '.join(case.versions)} only")
    cap = captured(case, version)
    assert cap.rc == 0 and cap.messages, (cap.rc, cap.stdout[-300:], cap.stderr[-300:])
    facts = predict(cap)
    assert facts["client.version"] == version, (
        "gwdoctor must read the version from claude --version")
    assert predicted_model(cap, facts) == cap.sent_model, (
        f"{version} {case.id}: the client sent {cap.sent_model!r}, gwdoctor predicted "
        f"{predicted_model(cap, facts)!r}")
    # The client's own "<Model> was retired on <date>" warning, or none.
    assert predicted_retirement(cap, facts) == retirement_said(cap), (
        f"{version} {case.id}: the client said retired on {retirement_said(cap)!r}, gwdoctor "
        f"predicted {predicted_retirement(cap, facts)!r}")


@pytest.mark.client
def test_print_mode_sends_only_the_main_model(captured: Callable[[Case, str], Capture]) -> None:
    """`claude -p` with no model set makes one Messages request, for the main model alone: an
    unserved alias nobody selects cannot break it (what issue 9 found scans calling broken)."""
    for version in ("2.1.332", "2.1.197"):
        cap = captured(CASES[0], version)
        assert [e.model for e in cap.messages] == [cap.sent_model], cap.exchanges
        facts: dict[str, Any] = predict(cap)
        in_use = {e["sent"] for e in facts["model.requested"]
                  if e.get("in_use") and e["role"] == "main"}
        assert in_use == {cap.sent_model}
