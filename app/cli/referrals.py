"""`steve referrals`: create, advance, list overdue, and judge the external network."""

from __future__ import annotations

from enum import StrEnum

import typer

from app.cli.acting import act_as
from app.cli.common import (
    DATE_OPTION,
    JSON_OPTION,
    console,
    emit_json,
    handle_errors,
    moment,
    settings,
    table,
    transaction,
)
from db.models import Referral, ReferralCreate, ReferralDirection, Urgency
from tools.access import Category as C
from tools.errors import InvalidInput
from tools.referrals import (
    advance_referral,
    create_referral,
    network_gaps,
    outcome_statistics,
    overdue_referrals,
    parse_status,
)
from tools.registry import find_practitioner, resolve_patient

app = typer.Typer(help="Referrals in and out of the practice.", no_args_is_help=True)


def _choice(enum: type[StrEnum], text: str, what: str) -> object:
    try:
        return enum(text.strip().lower())
    except ValueError:
        known = ", ".join(m.value for m in enum)
        raise InvalidInput(f"unknown {what} {text!r}; use one of {known}") from None


@app.command()
@handle_errors
def create(
    patient: str = typer.Option(..., "--patient", help="Patient id or name fragment."),
    source: str = typer.Option(..., "--from", help="Referring practitioner (id or name)."),
    target: str = typer.Option(..., "--to", help="Practitioner referred to (id or name)."),
    reason: str = typer.Option(..., "--reason", help="Why the patient is referred."),
    urgency: str = typer.Option("routine", help="routine, soon or urgent."),
    direction: str = typer.Option("outbound", help="outbound or inbound."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Create a referral (as a draft)."""
    urgency_value = _choice(Urgency, urgency, "urgency")
    direction_value = _choice(ReferralDirection, direction, "direction")
    with transaction() as session:
        pat = resolve_patient(session=session, query=patient)
        ref = create_referral(
            session=session,
            data=ReferralCreate(
                direction=direction_value,  # type: ignore[arg-type]
                patient_id=pat.id or 0,
                from_practitioner_id=find_practitioner(session=session, query=source).id or 0,
                to_practitioner_id=find_practitioner(session=session, query=target).id or 0,
                reason=reason,
                urgency=urgency_value,  # type: ignore[arg-type]
            ),
            actor="cli",
        )
        out = ref.model_dump(mode="json")
    if as_json:
        emit_json(out)
    else:
        console.print(f"Referral {out['id']} created as a draft.")


@app.command()
@handle_errors
def advance(
    referral_id: int = typer.Argument(..., help="The referral's id."),
    state: str = typer.Argument(..., help="Next state, e.g. sent, accepted, scheduled, seen."),
    rating: int | None = typer.Option(None, "--rating", help="Outcome 1-5, when closing."),
    note: str | None = typer.Option(None, "--note", help="A note for the history."),
    by: str | None = typer.Option(None, "--by", help="Who does it (id or name)."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Move a referral to its next lifecycle state."""
    target = parse_status(state)
    with transaction() as session:
        actor = None
        if by is not None:
            referral = session.get(Referral, referral_id)
            actor = act_as(
                session=session,
                who=by,
                # As the API: a note is clinical (the outcome), the state change is not.
                needs={C.REFERRALS_ADMIN, C.REFERRALS_CLINICAL} if note else {C.REFERRALS_ADMIN},
                patient_id=referral.patient_id if referral else None,
                entity="referral",
            )
        ref = advance_referral(
            session=session,
            referral_id=referral_id,
            to_status=target,
            outcome_rating=rating,
            note=note,
            actor=actor.label if actor else "cli",
        )
        out = ref.model_dump(mode="json")
    if as_json:
        emit_json(out)
    else:
        console.print(f"Referral {referral_id} is now {target.value}.")


@app.command()
@handle_errors
def overdue(day: str | None = DATE_OPTION, as_json: bool = JSON_OPTION) -> None:
    """Referrals that have stayed in their state longer than the practice allows."""
    now = moment(day)
    with transaction() as session:
        found = overdue_referrals(
            session=session, limits=settings().limits.referral_overdue_days, now=now
        )
        rows = [
            {
                "id": o.referral.id,
                "patient_id": o.referral.patient_id,
                "direction": str(o.referral.direction),
                "status": str(o.referral.status),
                "urgency": str(o.referral.urgency),
                "days_in_state": o.days_in_state,
                "limit_days": o.limit_days,
                "to_practitioner_id": o.referral.to_practitioner_id,
            }
            for o in found
        ]
    if as_json:
        emit_json(rows)
        return
    console.print(
        table(
            f"{len(rows)} overdue referral(s)",
            ["id", "patient", "direction", "state", "urgency", "days", "limit"],
            [
                [
                    r["id"],
                    r["patient_id"],
                    r["direction"],
                    r["status"],
                    r["urgency"],
                    r["days_in_state"],
                    r["limit_days"],
                ]
                for r in rows
            ],
        )
    )


@app.command()
@handle_errors
def stats(as_json: bool = JSON_OPTION) -> None:
    """Outcome statistics per external practitioner, and gaps in the network."""
    with transaction() as session:
        found = outcome_statistics(session=session)
        gaps = network_gaps(session=session)
    if as_json:
        emit_json({"practitioners": [s.__dict__ for s in found], "gaps": [str(g) for g in gaps]})
        return
    console.print(
        table(
            "External network",
            [
                "id",
                "name",
                "discipline",
                "referrals",
                "open",
                "declined",
                "closed",
                "rating",
                "days to seen",
                "report rate",
            ],
            [
                [
                    s.practitioner_id,
                    s.name,
                    s.discipline,
                    s.referrals,
                    s.open,
                    s.declined,
                    s.closed,
                    s.mean_rating,
                    s.median_days_to_seen,
                    s.report_rate,
                ]
                for s in found
            ],
        )
    )
    if gaps:
        console.print(
            "[bold]Gaps:[/] no active external practitioner for " + ", ".join(str(g) for g in gaps)
        )
    else:
        console.print("No gaps: every referral discipline has an active external practitioner.")
