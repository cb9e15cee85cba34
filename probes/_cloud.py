"""AWS and Google credential files read the way their SDKs find them (never their secrets).
File reads only."""

from __future__ import annotations

import configparser
import hashlib
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable

from ._io import parse_json, read_file

__all__ = ["adc_file", "aws_profile", "expired_at", "profile_keys", "sso_cache_expiry"]

Getter = Callable[[str], "str | None"]


def _ini(path: Path,
         problems: list[dict[str, str]] | None = None) -> configparser.RawConfigParser | None:
    """The parsed file, or None; why it could not be read goes to ``problems`` (a missing
    file is no problem). Bounded (_io): AWS_CONFIG_FILE=/dev/zero or a FIFO is a problem."""
    parser = configparser.RawConfigParser(strict=False, interpolation=None)
    read = read_file(path, "credentials")
    if not read.ok:
        if problems is not None and not read.missing:
            problems.append({"path": str(path), "problem": read.problem or "unreadable"})
        return None
    try:
        parser.read_string((read.data or b"").decode("utf-8", "replace"), str(path))
    except configparser.Error as exc:
        if problems is not None:
            problems.append({"path": str(path),
                             "problem": f"not an INI file: {type(exc).__name__}"})
        return None
    return parser


def _expand(value: str, home: Path, cwd: Path) -> Path:
    path = Path(value.replace("~", str(home), 1) if value.startswith("~") else value)
    return path if path.is_absolute() else cwd / path


def aws_profile(env: Getter, home: Path, cwd: Path) -> dict[str, Any]:
    """The active profile's non-secret settings from ~/.aws/config and ~/.aws/credentials."""
    name = env("AWS_PROFILE") or "default"
    config_path = _expand(env("AWS_CONFIG_FILE") or "~/.aws/config", home, cwd)
    creds_path = _expand(env("AWS_SHARED_CREDENTIALS_FILE") or "~/.aws/credentials", home, cwd)
    problems: list[dict[str, str]] = []
    config, creds = _ini(config_path, problems), _ini(creds_path, problems)
    section = "default" if name == "default" else f"profile {name}"
    conf: dict[str, str] = {}
    if config is not None:
        for candidate in (section, name):
            if config.has_section(candidate):
                conf = dict(config.items(candidate))
                break
    keys = dict(creds.items(name)) if creds is not None and creds.has_section(name) else {}
    sso_session = conf.get("sso_session")
    sso: dict[str, str] = {}
    if sso_session and config is not None and config.has_section(f"sso-session {sso_session}"):
        sso = dict(config.items(f"sso-session {sso_session}"))
    return {
        "name": name, "config_path": str(config_path), "credentials_path": str(creds_path),
        "region": conf.get("region") or None,
        "static_keys": bool(keys.get("aws_access_key_id") and keys.get("aws_secret_access_key"))
        or bool(conf.get("aws_access_key_id") and conf.get("aws_secret_access_key")),
        "expiration": keys.get("aws_expiration") or keys.get("expiration"),
        "sso_session": sso_session,
        "sso_start_url": conf.get("sso_start_url") or sso.get("sso_start_url"),
        "credential_process": bool(conf.get("credential_process")),
        "role_arn": bool(conf.get("role_arn")),
        "web_identity": bool(conf.get("web_identity_token_file")),
        "exists": config is not None and bool(conf) or bool(keys),
        "file_problems": problems,
    }


def profile_keys(env: Getter, home: Path, cwd: Path) -> tuple[str, str, str | None] | None:
    """The active profile's static keys ``(access key, secret, session token)`` for signing a
    probe request the way the client would; never stored in a fact (callers keep them local)."""
    name = env("AWS_PROFILE") or "default"
    creds = _ini(_expand(env("AWS_SHARED_CREDENTIALS_FILE") or "~/.aws/credentials", home, cwd))
    config = _ini(_expand(env("AWS_CONFIG_FILE") or "~/.aws/config", home, cwd))
    for parser, section in ((creds, name),
                            (config, "default" if name == "default" else f"profile {name}")):
        if parser is not None and parser.has_section(section):
            items = dict(parser.items(section))
            if items.get("aws_access_key_id") and items.get("aws_secret_access_key"):
                return (items["aws_access_key_id"], items["aws_secret_access_key"],
                        items.get("aws_session_token"))
    return None


def expired_at(stamp: str | None, now: datetime | None = None) -> tuple[bool | None, str | None]:
    if not stamp:
        return None, None
    try:
        when = datetime.fromisoformat(stamp.strip().replace("Z", "+00:00").replace("UTC", "+00:00"))
    except ValueError:
        return None, stamp
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return when <= (now or datetime.now(timezone.utc)), when.isoformat()


def sso_cache_expiry(profile: dict[str, Any], home: Path) -> str | None:
    """The SSO token cache's ``expiresAt`` (file named by sha1 of the session name or start URL)."""
    seed = profile.get("sso_session") or profile.get("sso_start_url")
    if not seed:
        return None
    path = home / ".aws" / "sso" / "cache" / f"{hashlib.sha1(seed.encode()).hexdigest()}.json"
    read = read_file(path, "credentials")
    data, _problem = parse_json(read.data or b"") if read.ok else (None, read.problem)
    value = data.get("expiresAt") if isinstance(data, dict) else None
    return value if isinstance(value, str) else None


def adc_file(env: Getter, home: Path, cwd: Path) -> dict[str, Any]:
    """Google Application Default Credentials file: where, whether it exists, its type and
    project."""
    explicit = env("GOOGLE_APPLICATION_CREDENTIALS")
    if explicit:
        path, origin = _expand(explicit, home, cwd), "GOOGLE_APPLICATION_CREDENTIALS"
    else:
        base = _expand(env("CLOUDSDK_CONFIG") or "~/.config/gcloud", home, cwd)
        path, origin = base / "application_default_credentials.json", "gcloud_default"
    read = read_file(path, "credentials")
    out: dict[str, Any] = {"path": str(path), "source": origin, "exists": not read.missing,
                           "type": None, "error": None, "project_id": None}
    if read.missing:
        if explicit:
            out["error"] = "file not found"
        return out
    if not read.ok:
        out["error"] = read.problem if read.problem and read.problem.startswith("not a regular") \
            else f"not a credential file: {read.problem}"
        return out
    data, problem = parse_json(read.data or b"")
    if problem:
        out["error"] = "not a credential file: invalid or too deeply nested JSON"
        return out
    if not isinstance(data, dict):
        out["error"] = "not a credential file: not a JSON object"
        return out
    kind = data.get("type")
    out["type"] = kind if kind in ("service_account", "authorized_user", "external_account",
                                   "impersonated_service_account") else None
    if out["type"] is None:
        out["error"] = f"unknown credential type {str(kind)[:40]!r}"
    project = data.get("project_id") or data.get("quota_project_id")
    out["project_id"] = project if isinstance(project, str) else None
    return out
