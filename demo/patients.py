"""Demo patients with their conditions, allergies, medications, care programme and elements."""

from __future__ import annotations

import random
from datetime import date, timedelta

from db.models import (
    BillingTrack,
    ConditionStatus,
    Discipline,
    ElementStatus,
    PatientStatus,
    ProgrammeStatus,
    Sex,
)
from demo.build_state import Context, ElementInfo, PatientInfo, Staff, weighted
from demo.names import (
    FAMILY,
    FEMALE_GIVEN,
    MALE_GIVEN,
    NEUTRAL_GIVEN,
    SHARED_NAMES,
    STREETS,
    TOWNS,
)
from demo.vocab_clinical import (
    ALLERGIES,
    CONDITIONS,
    GENERAL_MEDICATIONS,
    MODALITIES,
    PRESCRIBERS,
    RESOLVED_CONDITIONS,
    Condition,
)
from tools.registry import name_key

# Share of new patients (first visit still ahead), bounded by what a team's two physicians
# can see.
NEW_PATIENT_SHARE, MAX_NEW_PATIENTS = 0.06, 40


def _name(rng: random.Random, index: int, total: int, avoid: set[str]) -> tuple[str, str, str]:
    # Spread the pinned, deliberately shared names over the first few dozen ids.
    slot, rest = divmod(index, 3)
    if rest == 0 and slot < len(SHARED_NAMES) and total >= 3 * len(SHARED_NAMES):
        return SHARED_NAMES[slot]
    if index < len(SHARED_NAMES) and total < 3 * len(SHARED_NAMES):
        return SHARED_NAMES[index]
    sex = weighted(rng, {"female": 64, "male": 34, "other": 2})
    pool = {"female": FEMALE_GIVEN, "male": MALE_GIVEN, "other": NEUTRAL_GIVEN}[sex]
    given, family = rng.choice(pool), rng.choice(FAMILY)
    while avoid and name_key(f"{given} {family}") in avoid:  # a staff member's name
        given, family = rng.choice(pool), rng.choice(FAMILY)
    return given, family, sex


def _birth_date(rng: random.Random, today: date) -> date:
    age = weighted(rng, {(18, 30): 15, (30, 45): 30, (45, 60): 33, (60, 75): 17, (75, 90): 5})
    years = rng.randrange(*age)
    return today - timedelta(days=years * 365 + rng.randrange(0, 365))


def _conditions(rng: random.Random, sex: str) -> list[Condition]:
    pool = [c for c in CONDITIONS if sex == "female" or not c.female_only]
    k = weighted(rng, {1: 45, 2: 40, 3: 15})
    return rng.sample(pool, k)


def _modalities(rng: random.Random, conditions: list[Condition]) -> list[Discipline]:
    """2-5 distinct modalities, the ones that suit the patient's conditions first."""
    suited: list[Discipline] = []
    for condition in conditions:
        for modality in condition.modalities:
            if modality not in suited:
                suited.append(modality)
    k = weighted(rng, {2: 20, 3: 35, 4: 30, 5: 15})
    chosen: list[Discipline] = [Discipline.PHYSICIAN] if rng.random() < 0.6 else []
    for modality in suited:
        if len(chosen) < k and rng.random() < 0.8:
            chosen.append(modality)
    others = [m for m in MODALITIES if m not in chosen]
    rng.shuffle(others)
    while len(chosen) < k:
        chosen.append(others.pop())
    return chosen


def generate_patients(ctx: Context, count: int) -> None:
    rng = ctx.rng("patients")
    staff = ctx.get_staff()
    today = ctx.today
    teams = len(staff.teams)
    cap = MAX_NEW_PATIENTS * teams
    new_count = min(cap, max(1, round(count * NEW_PATIENT_SHARE))) if count > 1 else 0
    # New patients are spread over the register rather than bunched at the end.
    new_ids = set(rng.sample(range(count), new_count))
    for index in range(count):
        given, family, sex = _name(rng, index, count, staff.invented)
        is_new = index in new_ids
        registered = today - timedelta(
            days=rng.randrange(1, 12) if is_new else rng.randrange(40, 2000)
        )
        team = index % teams  # the register is shared out between the care teams
        physician = staff.teams[team].physicians[0 if rng.random() < 0.6 else 1]
        key = name_key(f"{given} {family}")
        patient_id = ctx.add(
            "patient",
            {
                "given_name": given,
                "family_name": family,
                "date_of_birth": _birth_date(rng, today),
                "sex": Sex(sex).value,
                "email": None
                if rng.random() < 0.05
                else f"{key.replace(' ', '.')}.{index + 1}@example.org",
                "phone": f"07700 900{rng.randrange(1000):03d}",  # Ofcom drama range
                "address": f"{rng.randrange(1, 180)} {rng.choice(STREETS)}, {rng.choice(TOWNS)}",
                "primary_physician_id": physician,
                "status": PatientStatus.ACTIVE.value,
                "name_key": key,
                "created_at": ctx.moment(rng, registered),
            },
        )
        conditions = _conditions(rng, sex)
        info = PatientInfo(
            id=patient_id,
            sex=sex,
            conditions=conditions,
            physician_id=physician,
            programme_id=0,
            billing=BillingTrack.INSURANCE if rng.random() < 0.55 else BillingTrack.DIRECT_PAY,
            is_new=is_new,
            band=weighted(rng, {"morning": 35, "afternoon": 30, "any": 35}),
            team=team,
        )
        _history(ctx, rng, info, registered)
        _programme(ctx, rng, staff, info, registered)
        ctx.patients.append(info)
        if (index + 1) % 1000 == 0 or index + 1 == count:
            ctx.report("patients", index + 1, count)


def _history(ctx: Context, rng: random.Random, info: PatientInfo, registered: date) -> None:
    today = ctx.today
    for condition in info.conditions:
        ctx.add(
            "patient_condition",
            {
                "patient_id": info.id,
                "name": condition.name,
                "status": ConditionStatus.ACTIVE.value,
                "onset_on": registered - timedelta(days=rng.randrange(60, 3650)),
            },
        )
    if rng.random() < 0.15:
        ctx.add(
            "patient_condition",
            {
                "patient_id": info.id,
                "name": rng.choice(RESOLVED_CONDITIONS),
                "status": ConditionStatus.RESOLVED.value,
                "onset_on": registered - timedelta(days=rng.randrange(400, 5000)),
            },
        )
    if rng.random() < 0.3:
        for substance, reaction, severity in rng.sample(ALLERGIES, weighted(rng, {1: 80, 2: 20})):
            ctx.add(
                "patient_allergy",
                {
                    "patient_id": info.id,
                    "substance": substance,
                    "reaction": reaction,
                    "severity": severity,
                },
            )
    if rng.random() < 0.65:
        options = [m for c in info.conditions for m in c.medications]
        picks = rng.sample(options, min(len(options), weighted(rng, {1: 60, 2: 30, 3: 10})))
        if rng.random() < 0.2:
            picks.append(rng.choice(GENERAL_MEDICATIONS))
        seen: list[str] = []
        for name, dose, frequency in picks:
            if name in seen:  # e.g. two levothyroxine strengths: keep the first
                continue
            seen.append(name)
            started = today - timedelta(days=rng.randrange(30, 3000))
            stopped = today - timedelta(days=rng.randrange(5, 25)) if rng.random() < 0.1 else None
            med_id = ctx.add(
                "patient_medication",
                {
                    "patient_id": info.id,
                    "name": name,
                    "dose": dose,
                    "frequency": frequency,
                    "started_on": started,
                    "stopped_on": stopped,
                    "prescriber": rng.choice(PRESCRIBERS),
                },
            )
            if stopped is None:
                info.medications.append((med_id, name))


def _programme(
    ctx: Context, rng: random.Random, staff: Staff, info: PatientInfo, registered: date
) -> None:
    if not info.is_new and rng.random() < 0.08:
        _finished_programme(ctx, rng, info, registered)
    started = (
        registered
        if info.is_new
        else max(registered, ctx.today - timedelta(days=rng.randrange(20, 400)))
    )
    names = " and ".join(c.name for c in info.conditions[:2])
    info.programme_id = ctx.add(
        "care_programme",
        {
            "patient_id": info.id,
            "title": f"Integrative programme: {names}",
            "goal": info.conditions[0].goal,
            "lead_practitioner_id": info.physician_id,
            "status": ProgrammeStatus.ACTIVE.value,
            "started_on": started,
            "ended_on": None,
        },
    )
    for modality in _modalities(rng, info.conditions):
        _element(ctx, rng, staff, info, modality, started)


def _finished_programme(
    ctx: Context, rng: random.Random, info: PatientInfo, registered: date
) -> None:
    """An earlier, finished programme: history that the view must leave out."""
    main = info.conditions[0]
    finished = registered + timedelta(days=rng.randrange(60, 200))
    if finished < ctx.today - timedelta(days=30):
        ctx.add(
            "care_programme",
            {
                "patient_id": info.id,
                "title": f"{main.name}: first programme",
                "goal": main.goal,
                "lead_practitioner_id": info.physician_id,
                "status": ProgrammeStatus.COMPLETED.value,
                "started_on": registered,
                "ended_on": finished,
            },
        )


def _element(
    ctx: Context,
    rng: random.Random,
    staff: Staff,
    info: PatientInfo,
    modality: Discipline,
    started: date,
) -> None:
    """One modality of the active programme, with its practitioner, status and dates."""
    if modality == Discipline.PHYSICIAN:
        practitioner = info.physician_id
    else:
        pool = staff.team(info).by_discipline[modality]
        practitioner = pool[0] if len(pool) == 1 or rng.random() < 0.65 else pool[1]
    spec = MODALITIES[modality]
    status, element_start, ended = _element_dates(ctx.today, rng, info, modality, started)
    goal = rng.choice(spec.goals)
    cadence = rng.choice(spec.cadences)
    element_id = ctx.add(
        "programme_element",
        {
            "programme_id": info.programme_id,
            "patient_id": info.id,
            "modality": modality.value,
            "practitioner_id": practitioner,
            "goal": goal,
            "cadence": cadence,
            "status": status.value,
            "started_on": element_start,
            "ended_on": ended,
        },
    )
    info.elements.append(
        ElementInfo(
            id=element_id,
            modality=modality,
            practitioner_id=practitioner,
            cadence=cadence,
            status=status,
            started_on=element_start,
            goal=goal,
        )
    )


def _element_dates(
    today: date, rng: random.Random, info: PatientInfo, modality: Discipline, started: date
) -> tuple[ElementStatus, date, date | None]:
    """An element's status, start and end (None unless completed)."""
    if info.is_new:
        # The physician sees a new patient first; the rest follows that visit.
        status = ElementStatus.ACTIVE if modality == Discipline.PHYSICIAN else ElementStatus.PLANNED
        return status, today + timedelta(days=rng.randrange(0, 14)), None
    status = weighted(
        rng,
        {
            ElementStatus.ACTIVE: 85,
            ElementStatus.PAUSED: 7,
            ElementStatus.PLANNED: 5,
            ElementStatus.COMPLETED: 3,
        },
    )
    ended: date | None = None
    if status == ElementStatus.PLANNED:
        element_start = today + timedelta(days=rng.randrange(7, 30))
    else:
        element_start = min(today, started + timedelta(days=rng.randrange(0, 60)))
    if status == ElementStatus.COMPLETED:
        ended = today - timedelta(days=rng.randrange(1, 20))
        element_start = min(element_start, ended - timedelta(days=30))
    return status, element_start, ended
