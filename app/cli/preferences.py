"""`steve preferences`: a physician's standing instructions for what Steve writes."""

from __future__ import annotations

import typer

from app.cli.acting import act_as
from app.cli.common import JSON_OPTION, console, emit_json, handle_errors, table, transaction
from tools.access import Category
from tools.preferences import add_preference, list_preferences, remove_preference
from tools.registry import find_practitioner

app = typer.Typer(help="Standing preferences per physician.", no_args_is_help=True)
WHO = typer.Option(..., "--for", help="Practitioner id or name.")
NEEDS = {Category.PREFERENCES}  # a person's own working preferences (tools.access)


@app.command()
@handle_errors
def add(
    text: str = typer.Argument(..., help='E.g. "labs first", "one page at most".'),
    who: str = WHO,
    as_json: bool = JSON_OPTION,
) -> None:
    """Record a preference (briefings and digests follow it)."""
    with transaction() as session:
        actor = act_as(session=session, who=who, needs=NEEDS, entity="preference")
        person = find_practitioner(session=session, query=who)
        pref = add_preference(session=session, practitioner_id=actor.practitioner_id, text=text)
        row = {"id": pref.id, "practitioner_id": actor.practitioner_id, "text": pref.text}
    if as_json:
        emit_json(row)
        return
    console.print(f"Preference {row['id']} recorded for {person.name}.")


@app.command("list")
@handle_errors
def list_(who: str = WHO, as_json: bool = JSON_OPTION) -> None:
    """Show someone's preferences."""
    with transaction() as session:
        actor = act_as(session=session, who=who, needs=NEEDS, entity="preference")
        rows = [
            {"id": p.id, "text": p.text}
            for p in list_preferences(session=session, practitioner_id=actor.practitioner_id)
        ]
    if as_json:
        emit_json(rows)
        return
    console.print(
        table(f"{len(rows)} preference(s)", ["id", "text"], [[r["id"], r["text"]] for r in rows])
    )


@app.command()
@handle_errors
def remove(preference_id: int = typer.Argument(..., help="The preference's id.")) -> None:
    """Forget a preference."""
    with transaction() as session:
        remove_preference(session=session, preference_id=preference_id)
    console.print(f"Preference {preference_id} removed.")
