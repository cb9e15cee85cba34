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


@pytest.mark.client
@pytest.mark.parametrize("stem", sorted(MISSES))
def test_known_miss_still_disagrees_with_the_client(stem: str, parts: Any, tmp_path: Path,
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
