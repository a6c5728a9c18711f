"""Run `report`/`inspect` as a command line until cli.py registers them (then unused).

The lead registers the commands with `app.command("report")(report_cmd)`; this shim does
exactly that on a fresh Typer app so the tests exercise the same functions as a subprocess.
"""

from __future__ import annotations

import typer

from oafetch.cli_report import inspect_cmd, report_cmd

app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)
app.command("report")(report_cmd)
app.command("inspect")(inspect_cmd)

if __name__ == "__main__":
    app()
