"""Every c315 command, found by walking the click command typer builds from the app — so a command
(or a sub-app's command) added later is walked too, with no list to keep up to date."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import typer

from campaign315.cli import app

EXAMPLE = re.compile(r"^示例：(c315 .+)$")
README = Path(__file__).resolve().parents[1] / "README.md"


def every_command(typer_app: typer.Typer = app) -> list[tuple[tuple[str, ...], object]]:
    """(command path, click command) for every command, sub-commands included, in the app's order."""
    found = []

    def walk(group, prefix: tuple[str, ...]) -> None:
        for name, command in group.commands.items():
            if hasattr(command, "commands"):
                walk(command, (*prefix, name))
            else:
                found.append(((*prefix, name), command))

    walk(typer.main.get_command(typer_app), ())
    return found


def example_args(help_output: str, path: tuple[str, ...]) -> list[str]:
    """The arguments of the example that ends ``c315 PATH --help`` (after ``c315 PATH``)."""
    last = help_output.strip().splitlines()[-1].strip()
    match = EXAMPLE.match(last)
    assert match, f"--help does not end with an example line (示例：c315 …): {last!r}"
    words = shlex.split(match.group(1))
    assert words[1:1 + len(path)] == list(path), f"the example is not of c315 {' '.join(path)}: {last!r}"
    return words[1 + len(path):]


def param_names(command) -> set[str]:
    return {param.name for param in command.params}


def documented_json(path: tuple[str, ...]) -> object:
    """The example README gives under "--json shapes" for ``c315 PATH --json`` (the first ```json block
    after it is named)."""
    text = README.read_text(encoding="utf-8")
    section = text[text.index("### `--json` shapes"):]
    section = section[:section.index("\n### ", 1)]
    name = f"`c315 {' '.join(path)} --json`"
    assert name in section, f"README's --json shapes do not document {name}"
    after = section[section.index(name):]
    block = after[after.index("```json\n") + len("```json\n"):]
    import json

    return json.loads(block[:block.index("```")])
