"""`steve import`: bring records in from other systems."""

from __future__ import annotations

import typer

from app.cli.import_labs import import_hl7, import_labs

app = typer.Typer(
    help="Bring records in from other systems: FHIR, HL7 v2 lab results, lab CSV files.",
    no_args_is_help=True,
)
app.command("hl7")(import_hl7)
app.command("labs")(import_labs)
