"""Without the skip variable and with credentials only the SDK can resolve, gwdoctor asks no model
and says so: nothing is posted, the checks carry the reason, the verdict is unknown (not
healthy)."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import tempfile
from pathlib import Path

from gwdoctor.probes._recorder import Recorder

GWDOCTOR = Path(sys.executable).parent / "gwdoctor"


def _scan(env: dict[str, str], files: dict[str, str]) -> tuple[dict, list]:
    with Recorder() as rec, tempfile.TemporaryDirectory() as tmp:
        for rel, text in files.items():
            path = Path(tmp) / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
        full = {"PATH": "/usr/bin:/bin", "HOME": tmp,
                **{k: v.replace("{rec}", rec.url) for k, v in env.items()}}
        out = subprocess.run([str(GWDOCTOR), "scan", "--format", "json", "--fail-on", "never",
                              "--timeout", "2"],
                             env=full, capture_output=True, text=True, timeout=60, cwd=tmp)
        return json.loads(out.stdout), list(rec.exchanges)


def test_bedrock_sso_profile_is_not_resolved_and_the_report_says_so() -> None:
    config = "[profile corp]\nsso_session = corp\nsso_account_id = 1\nsso_role_name = r\n" \
             "region = us-east-1\n" \
             "[sso-session corp]\nsso_start_url = https://corp.awsapps.com/start\n" \
             "sso_region = us-east-1\n"
    report, seen = _scan({"CLAUDE_CODE_USE_BEDROCK": "1", "AWS_PROFILE": "corp",
                          "ANTHROPIC_BEDROCK_BASE_URL": "{rec}/bedrock"},
                         {".aws/config": config,  # a live SSO session: nothing is wrong, it just
                          # cannot be used offline
                          f".aws/sso/cache/{hashlib.sha1(b'corp').hexdigest()}.json":
                              '{"expiresAt": "2099-01-01T00:00:00Z"}'})
    assert not [e for e in seen if e.method == "POST"]
    assert report["verdict"] == "unknown" and "gateway.models" in report["verdict_reason"]
    checks = report["facts"]["provider.model_checks"]
    assert checks and all(c["checked"] is False and "AWS SDK" in c["reason"] for c in checks)


def test_vertex_without_skip_is_not_asked() -> None:
    report, seen = _scan({"CLAUDE_CODE_USE_VERTEX": "1", "ANTHROPIC_VERTEX_PROJECT_ID": "p",
                          "CLOUD_ML_REGION": "us-east5",
                          "ANTHROPIC_VERTEX_BASE_URL": "{rec}/vertex_ai/v1"}, {})
    assert not [e for e in seen if e.method == "POST"]
    assert all(c["checked"] is False and "oauth2.googleapis.com" in c["reason"]
               for c in report["facts"]["provider.model_checks"])
    assert report["verdict"] in ("unknown", "broken")  # broken when PRV002 finds no ADC at all
