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
