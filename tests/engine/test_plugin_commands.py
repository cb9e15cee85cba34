"""gwdoctor_register_commands: a third-party plugin, installed for real with pip, adds a command
to `gwdoctor` the way the built-in setup plugin adds `generate` and `validate`."""

from __future__ import annotations

import importlib
import subprocess
import sys
from pathlib import Path
from typing import Iterator

import pytest
from click.testing import CliRunner
from gwdoctor.engine.cli import main

PLUGINS = Path(__file__).resolve().parents[1] / "plugins"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("site")
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",
                    "--no-build-isolation", "--no-index", "--target", str(target),
                    str(PLUGINS / "commands")], check=True, capture_output=True, timeout=180)
    return target


@pytest.fixture
def fresh_cli(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """`main` as at start-up (no plugin command asked for yet), restored afterwards: the group
    is a module-level object that keeps what the hook added."""
    builtin = {name: command for name, command in main.commands.items()
               if getattr(command.callback, "__module__", "").startswith("gwdoctor.engine.")}
    monkeypatch.setattr(main, "commands", builtin)
    monkeypatch.setattr(main, "plugin_commands_loaded", False, raising=False)
    yield


def test_a_plugin_adds_a_command(site: Path, fresh_cli: None,
                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(site))  # entry points are read from sys.path
    importlib.invalidate_caches()
    runner = CliRunner()
    result = runner.invoke(main, ["hello", "--name", "corp"])
    assert result.exit_code == 0, result.output
    assert result.output == "hello, corp\n"
    listing = runner.invoke(main, ["--help"]).output
    assert "hello" in listing and "generate" in listing and "validate" in listing


def test_a_plugin_cannot_replace_a_builtin_command(site: Path, fresh_cli: None,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(site))
    importlib.invalidate_caches()
    builtin_scan = main.commands["scan"]
    main.load_plugin_commands()  # type: ignore[attr-defined]
    assert main.commands["scan"] is builtin_scan
    assert "hello" in main.commands


def test_builtin_commands_do_not_ask_the_plugins(fresh_cli: None) -> None:
    # `--version` and the built-in commands never build a plugin manager for commands
    # (start-up is benchmarked); only an unknown name or the command list does.
    runner = CliRunner()
    assert runner.invoke(main, ["--version"]).exit_code == 0
    assert runner.invoke(main, ["rules", "--format", "json", "--no-plugins"]).exit_code == 0
    assert main.plugin_commands_loaded is False  # type: ignore[attr-defined]
    assert runner.invoke(main, ["generate", "bedrock"]).exit_code == 0
    assert main.plugin_commands_loaded is True  # type: ignore[attr-defined]


def test_a_disabled_plugin_adds_no_command(site: Path, fresh_cli: None,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(site))
    importlib.invalidate_caches()
    monkeypatch.setenv("GWDOCTOR_DISABLE_PLUGINS", "hello")
    result = CliRunner().invoke(main, ["hello"])
    assert result.exit_code == 2 and "No such command 'hello'" in result.output


def _scan_json(args: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict:
    import json

    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["scan", "--offline", "--format", "json", "--fail-on",
                                       "never", *args])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_a_plugin_adds_a_scan_option_its_probe_reads(site: Path, fresh_cli: None, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(site))
    importlib.invalidate_caches()
    report = _scan_json(["--hello-greeting", "good morning"], tmp_path, monkeypatch)
    assert report["facts"]["hello.greeting"] == "good morning"
    assert report["facts"]["engine.options"]["hello_greeting"] == "good morning"
    # Not given: the probe's default; and the built-in options come the same way.
    report = _scan_json(["--client-version", "2.1.332"], tmp_path, monkeypatch)
    assert report["facts"]["hello.greeting"] == "(none)"
    assert report["facts"]["client.version"] == "2.1.332"
    assert "--hello-greeting" in CliRunner().invoke(main, ["scan", "--help"]).output


def test_without_third_party_plugins_their_options_are_unknown(
        site: Path, fresh_cli: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(site))
    importlib.invalidate_caches()
    monkeypatch.setenv("HOME", str(tmp_path))
    result = CliRunner().invoke(main, ["scan", "--offline", "--no-plugins",
                                       "--hello-greeting", "x"])
    assert result.exit_code == 2 and "--hello-greeting" in result.output, result.output
    # The built-in probes' options stay (gwdoctor's own plugins load even with --no-plugins).
    assert "--gateway-config" in CliRunner().invoke(main, ["scan", "--no-plugins",
                                                           "--help"]).output


def test_a_plugin_option_may_not_take_a_flag_the_command_has(
        fresh_cli: None, monkeypatch: pytest.MonkeyPatch) -> None:
    from gwdoctor.engine import ScanOption, hookimpl, plugins

    class Clash:
        @hookimpl
        def gwdoctor_register_scan_options(self) -> list[ScanOption]:
            return [ScanOption("--offline", "takes the engine's own flag")]

    real = plugins.get_plugin_manager

    def with_clash(**kw: object) -> plugins.PluginManager:
        manager = real(**kw)  # type: ignore[arg-type]
        manager.pm.register(Clash(), name="clash")
        return manager

    monkeypatch.setattr(plugins, "get_plugin_manager", with_clash)
    result = CliRunner().invoke(main, ["scan", "--offline"])
    assert result.exit_code == 2, result.output
    assert "a plugin declares --offline" in result.output


def test_version_builds_no_plugin_manager(monkeypatch: pytest.MonkeyPatch) -> None:
    from gwdoctor.engine import plugins

    def refuse(**kw: object) -> None:
        raise AssertionError("--version built a plugin manager")

    monkeypatch.setattr(plugins, "get_plugin_manager", refuse)
    result = CliRunner().invoke(main, ["--version"])
    assert result.exit_code == 0 and "version" in result.output, result.output
