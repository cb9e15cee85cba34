"""Known misses of the practice set (docs/practice-set.md): public failures rebuilt here on which
gwdoctor's verdict and the real client's outcome disagree today. Each runs both and asserts
agreement; the test is expected to fail (strict xfail), so fixing the miss turns it into an
unexpected pass that asks for the scenario to join the client tier."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from _harness import SCENARIOS, load, materialise, scan
from test_client_agreement import ANSWER, run_client

# None today: practice-nginx-body-limit-413 was one until the model probe padded a request to the
# client's size (GWY014); it is now in the client tier.
MISSES: dict[str, str] = {}


def test_every_practice_rebuild_is_checked_against_the_client_or_a_known_miss() -> None:
    """A practice scenario is in the client tier (`client: true`, claude -p must agree) or listed
    here; none is left unchecked."""
    stems = sorted(p.stem for p in SCENARIOS.glob("practice-*.yaml"))
    assert stems, "no practice scenarios found"
    unchecked = [s for s in stems if not load(SCENARIOS / f"{s}.yaml").get("client")
                 and s not in MISSES]
    assert not unchecked, unchecked
    assert set(MISSES) <= set(stems), sorted(set(MISSES) - set(stems))


def _still_disagrees(stem: str, parts: Any, tmp_path: Path,
                     request: pytest.FixtureRequest) -> None:
    request.applymarker(pytest.mark.xfail(strict=True, reason=MISSES[stem]))
    data = load(SCENARIOS / f"{stem}.yaml")
    setup = materialise(data, tmp_path, parts(data.get("parts") or []))
    report = scan(setup, data.get("options") or {})
    client = run_client(setup, data.get("client_model"), data.get("options") or {})
    client_ok = client.returncode == 0 and ANSWER in client.stdout
    assert (report["verdict"] in ("healthy", "degraded")) == client_ok, (
        f"gwdoctor {report['verdict']}; client rc={client.returncode} "
        f"{client.stdout.strip()[:200]!r}")


if MISSES:  # defined only when there is a miss: an empty parametrize would only show a skip
    test_known_miss_still_disagrees_with_the_client = pytest.mark.client(
        pytest.mark.parametrize("stem", sorted(MISSES))(_still_disagrees))
