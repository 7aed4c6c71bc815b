"""The two consoles every `steve` command prints to: tables and JSON on stdout, errors on stderr.

Kept apart from `app.cli.common` so that the command table (`app.cli.main`) can report a
usage error without loading the settings, the database or any command.
"""

from __future__ import annotations

from rich.console import Console

console = Console()
err_console = Console(stderr=True)
