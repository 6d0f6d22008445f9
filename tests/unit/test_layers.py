"""Which layer may import which: commands stay thin, ops never reaches up into config."""

from __future__ import annotations

import ast
from pathlib import Path

BOT = Path(__file__).resolve().parents[2] / "bot"
COMMAND_LAYERS = ("bot.app", "bot.commands", "bot.config", "bot.ops")


def _imports(path: Path) -> set[str]:
    """Every module ``path`` imports by absolute name, at any depth of its code."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.add(node.module)
    return found


def _ours(modules: set[str]) -> set[str]:
    return {m for m in modules if m.split(".")[0] in ("bot", "strategies")}


def test_commands_import_only_the_composition_layer_config_and_ops() -> None:
    """A command parses, calls bot.app and prints; only backtest may also use bot.backtest."""
    for path in sorted((BOT / "commands").glob("*.py")):
        allowed = (*COMMAND_LAYERS, "bot.backtest") if path.stem == "backtest" else COMMAND_LAYERS
        wrong = {m for m in _ours(_imports(path)) if not m.startswith(allowed)}
        assert not wrong, f"{path.name} imports {sorted(wrong)}"


def test_ops_never_imports_config() -> None:
    """bot.ops sits below bot.config (config imports its log levels), so never the reverse."""
    for path in sorted((BOT / "ops").glob("*.py")):
        assert not {m for m in _imports(path) if m.startswith("bot.config")}, path.name
