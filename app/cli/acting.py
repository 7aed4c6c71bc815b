"""Who a `steve` command acts as (`--by`, `--as`, `--for`, `--physician`), checked by the policy.

The person named is resolved to an Actor exactly as the API resolves a logged-in user
(tools.access: externals and leavers have no role) and the command's needs are checked by
`tools.access.require`, patient scope included. A refusal is audited like the API's (actor
`practitioner:N`, action `denied`, origin `cli`); `app.cli.common.transaction` then keeps
that audit row and nothing else, and the command exits non-zero with one line.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlmodel import Session

from db.models import Discipline
from tools import audit
from tools.access import AccessDenied, Actor, Category, require, role_for
from tools.registry import find_practitioner

ORIGIN = "cli"


def act_as(
    *,
    session: Session,
    who: str,
    needs: Iterable[Category],
    patient_id: int | None = None,
    entity: str,
) -> Actor:
    """The actor `who` (an id or a name), refused (audited) unless the policy allows `needs`."""
    person = find_practitioner(session=session, query=who)
    assert person.id is not None
    try:
        role = role_for(person)
    except AccessDenied:
        audit.record(
            session=session,
            actor=f"practitioner:{person.id}",
            action="denied",
            entity=entity,
            patient_id=patient_id,
            origin=ORIGIN,
        )
        raise
    actor = Actor(person.id, role, Discipline(person.discipline))
    check(session=session, actor=actor, needs=needs, patient_id=patient_id, entity=entity)
    return actor


def check(
    *,
    session: Session,
    actor: Actor,
    needs: Iterable[Category],
    patient_id: int | None = None,
    entity: str,
) -> None:
    """A further check for an actor already resolved (e.g. once the patient is known)."""
    require(
        session=session,
        actor=actor,
        needs=set(needs),
        patient_id=patient_id,
        entity=entity,
        origin=ORIGIN,
    )
