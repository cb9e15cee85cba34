"""The setup commands, `generate` (known-good configurations) and `validate` (offline check of
given files): parse and delegate."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import click
from gwdoctor.engine.cli_output import (
    FAIL_ON,
    check_output,
    exit_code,
    render_report,
    write_output,
)

from .generator import KINDS, SetupError, gateways, listing
from .generator import generate as build

__all__ = ["generate", "validate"]


@click.command()
@click.argument("kind", type=click.Choice(list(KINDS)))
@click.option("--output", "-o", default="-", show_default=True, metavar="DIR|-",
              help="Directory to write config.yaml/settings.json/env.sh/README-setup.md into; "
                   "- lists them on stdout.")
@click.option("--gateway", metavar="ID|URL",
              help=f"enterprise: the gateway profile ({'|'.join(gateways())}); "
                   "proxy: the gateway URL.")
@click.option("--base-url", help="The gateway root the client uses (no /v1).")
@click.option("--main-model", help="litellm-vertex: served name for the main model "
                                   "[gemini-2.5-pro]; enterprise: the gateway's main model name.")
@click.option("--small-model", "--haiku-model", "small_model",
              help="Background/haiku model (litellm-vertex: [gemini-2.5-flash]).")
@click.option("--region", help="litellm-vertex: preferred Vertex location [global]; "
                               "vertex: CLOUD_ML_REGION [global].")
@click.option("--claude-on-vertex", is_flag=True,
              help="litellm-vertex: serve the client's default Claude ids from Claude on Vertex.")
@click.option("--claude-region",
              help="litellm-vertex --claude-on-vertex: location for Claude [us-east5].")
@click.option("--aws-region", help="bedrock / litellm-multi: AWS region [us-east-1].")
@click.option("--aws-profile", help="bedrock: AWS_PROFILE to use.")
@click.option("--bedrock-prefix",
              type=click.Choice(["us", "eu", "apac", "jp", "au", "us-gov", "global"]),
              help="Inference-profile prefix [from the region].")
@click.option("--vertex-region", help="litellm-multi: Vertex location for Claude [us-east5].")
@click.option("--primary", type=click.Choice(["anthropic", "bedrock", "vertex"]),
              help="litellm-multi: provider tried first [anthropic].")
@click.option("--project", help="vertex: ANTHROPIC_VERTEX_PROJECT_ID.")
@click.option("--auth-header",
              help="enterprise: also send the key in this header (e.g. Kong key-auth).")
@click.option("--proxy-url", help="proxy: the corporate proxy, e.g. http://proxy.corp:3128.")
@click.option("--proxy-auth/--no-proxy-auth", default=True, show_default=True,
              help="proxy: put user/password placeholders in the proxy URL.")
@click.option("--internal/--external", default=None,
              help="proxy: whether the gateway is internal (bypasses the proxy) "
                   "[guessed from the host].")
@click.option("--ca", type=click.Path(dir_okay=False),
              help="proxy: the TLS-inspection CA bundle (PEM).")
@click.option("--client-version", metavar="VERSION",
              help="Claude Code version whose default ids to serve.")
def generate(kind: str, output: str, ca: str | None, **opts: Any) -> None:
    """Write a known-good gateway and client configuration.

    \b
    Kinds:
      litellm-vertex  LiteLLM serving eight Vertex AI models + the client settings
      litellm-multi   LiteLLM: Claude on Anthropic, Bedrock and Vertex, with fallbacks
      enterprise      client settings for --gateway truefoundry|zuplo|portkey|...
      proxy           client behind a corporate proxy (--proxy-url, --gateway URL, --ca)
      bedrock/vertex  client talking to Amazon Bedrock / Vertex AI directly
    """
    if kind == "proxy":
        opts["gateway_url"], opts["gateway"] = opts.pop("gateway", None), None
    if ca:
        path = Path(ca).expanduser()
        ca = str(path if path.is_absolute() else Path.cwd() / path)
        if not path.is_file():
            click.echo(f"gwdoctor: warning: --ca {ca}: no such file yet", err=True)
    try:
        files = build(kind, {**opts, "ca": ca})
    except SetupError as exc:
        raise click.UsageError(str(exc)) from None
    if output == "-":
        sys.stdout.write(listing(files))
        return
    target = Path(output)
    if target.exists() and not target.is_dir():
        raise click.UsageError(f"--output {output}: not a directory")
    target.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (target / name).write_text(text, encoding="utf-8")
    click.echo(f"wrote {', '.join(files)} to {target}", err=True)


@click.command()
@click.option("--gateway-config", type=click.Path(dir_okay=False), help="A LiteLLM config.yaml.")
@click.option("--settings", "settings", multiple=True, metavar="[LAYER=]FILE",
              help="A Claude Code settings file (repeatable); LAYER is user (default), project, "
                   "local or managed.")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "markdown", "sarif", "junit"]),
              default="text", show_default=True)
@click.option("--output", "-o", metavar="FILE", help="Write the report to FILE instead of stdout.")
@click.option("--fail-on", type=click.Choice(FAIL_ON),
              default="error", show_default=True,
              help="Exit 1 when a finding is at or above this (CI: --fail-on warning).")
@click.option("--env", "env_pairs", multiple=True, metavar="NAME=VALUE",
              help="A variable of the gateway host (repeatable), e.g. VERTEXAI_PROJECT=my-proj; "
                   "the config's os.environ/ references are otherwise looked up in this shell.")
@click.option("--client-env", "client_pairs", multiple=True, metavar="NAME=VALUE",
              help="A variable exported in the client's shell (repeatable); by default it has "
                   "none.")
@click.option("--shell-env", is_flag=True,
              help="Validate against this shell's whole environment (and credentials) too.")
@click.option("--client-version", metavar="VERSION", help="Claude Code version to model.")
@click.option("--no-plugins", is_flag=True, help="Load no third-party plugins.")
@click.option("--verbose", "-v", is_flag=True)
def validate(gateway_config: str | None, settings: tuple[str, ...], fmt: str, output: str | None,
             fail_on: str, env_pairs: tuple[str, ...], client_pairs: tuple[str, ...],
             shell_env: bool, client_version: str | None, no_plugins: bool, verbose: bool) -> None:
    """Check a gateway config and client settings statically (no network), as `scan` would."""
    from .validate import validate_files

    check_output(output)
    try:
        result = validate_files(gateway_config=gateway_config, settings=settings,
                                shell_env=dict(os.environ), use_shell_env=shell_env,
                                extra_env=_pairs("--env", env_pairs),
                                client_env=_pairs("--client-env", client_pairs),
                                client_version=client_version,
                                load_plugins=not no_plugins)
    except SetupError as exc:
        raise click.UsageError(str(exc)) from None
    write_output(render_report(result.report, fmt, rules=result.rules, fail_on=fail_on,
                               output=output, verbose=verbose), output)
    sys.exit(exit_code(result.report, fail_on))


def _pairs(flag: str, pairs: tuple[str, ...]) -> dict[str, str]:
    out = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise click.UsageError(f"{flag} {pair}: expected NAME=VALUE")
        out[name] = value
    return out
