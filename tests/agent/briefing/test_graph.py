"""The briefing graph on the demo practice: sections, citations, the checker, the model path,
the no-model path, conflicting guidance, interactions, preferences and the golden file.

Nothing here commits: planted rows live in the test's session and are rolled back, so the
module's demo practice stays as generated.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date, timedelta

from langchain_core.messages import HumanMessage, SystemMessage
from sqlmodel import Session, select

from agent.briefing.document import GUARD_HEADING
from agent.briefing.gather import gather_facts
from agent.briefing.graph import Briefing, brief_day, briefing_graph, run_briefing
from agent.briefing.state import SECTION_TITLES, SECTIONS
from agent.documents.facts import FACTS_CLOSE, FACTS_OPEN
from agent.documents.verify import check
from db.models import (
    Appointment,
    CareMessage,
    ClinicalNote,
    Discipline,
    MessageKind,
    NoteOrigin,
    PatientMedication,
    SupplementItem,
    SupplementStatus,
)
from demo.vocab_text import INJECTED_REPORT
from tests.support import paths
from tests.support.briefing import Demo
from tests.support.fake_models import ScriptedChatModel
from tools.citations import find_refs, split_sentences
from tools.scheduling.agenda import day_appointments

GOLDEN = paths.GOLDEN / "briefing_seed7_2025-03-03_appointment869.md"
GOLDEN_APPOINTMENT = 869  # physician 1, 15:45: interaction, notes, evidence, open items
PHYSICIANS = (1, 2)


def day_briefings(demo: Demo, session: Session, **kwargs: object) -> list[Briefing]:
    out: list[Briefing] = []
    for physician in PHYSICIANS:
        out += brief_day(
            context=demo.context(session, **kwargs),  # type: ignore[arg-type]
            physician_id=physician,
            day=demo.today,
            now=demo.now,
        )
    return out


def sentences(body: str) -> list[str]:
    out = []
    for line in body.splitlines():
        if line.strip() and not line.startswith("#"):
            out += split_sentences(line.lstrip("- "))
    return out


def brief(demo: Demo, session: Session, appointment_id: int, **kwargs: object) -> Briefing:
    appointment = session.get(Appointment, appointment_id)
    assert appointment is not None
    return run_briefing(
        context=demo.context(session, **kwargs),  # type: ignore[arg-type]
        patient_id=appointment.patient_id,
        physician_id=appointment.practitioner_id,
        now=demo.now,
        appointment_id=appointment_id,
    )


# ------------------------------------------------------------------- no model


def test_every_section_is_present_when_its_data_exists(demo: Demo) -> None:
    with Session(demo.engine) as s:
        briefings = day_briefings(demo, s)
    assert len(briefings) == 15
    seen: set[str] = set()
    for b in briefings:
        present = {f.section for f in b.facts}
        seen |= present
        headings = [line for line in b.body.splitlines() if line.startswith("## ")]
        assert headings[0].startswith(f"## {SECTION_TITLES['decision']}")  # decisions first
        for section in SECTIONS:
            if section in present:
                assert f"## {SECTION_TITLES[section]}" in headings, (b.appointment_id, section)
            elif section != "decision":
                assert f"## {SECTION_TITLES[section]}" not in headings
        assert b.markdown.rstrip().splitlines()[-1].startswith("- [")  # ends with its sources
    assert seen == set(SECTIONS) - {"preferences"}  # no preferences without memory


def test_every_sentence_of_a_deterministic_briefing_cites_a_known_reference(demo: Demo) -> None:
    with Session(demo.engine) as s:
        briefings = day_briefings(demo, s)
    for b in briefings:
        assert b.mode == "deterministic" and b.model_calls == 0 and b.prompt_tokens == 0
        assert b.dropped == [] and b.dropped_total == 0
        known = {r for f in b.facts for r in f.refs}
        for sentence in sentences(b.body):
            refs = find_refs(sentence)
            assert refs and set(refs) <= known, sentence
        # Every fact made it into the briefing, and every cited source is listed.
        assert set(b.cited) == known
        sources = b.markdown.split("## Sources", 1)[1]
        for ref in b.cited:
            assert f"- [{ref}]" in sources


def test_the_deterministic_briefing_matches_the_golden_file(demo: Demo) -> None:
    """Same seed, date and clock: the same briefing, byte for byte, on SQLite and PostgreSQL.

    Regenerate with UPDATE_GOLDEN=1 after an intended change, and read the diff.
    """
    with Session(demo.engine) as s:
        b = brief(demo, s, GOLDEN_APPOINTMENT)
    if os.environ.get("UPDATE_GOLDEN") == "1" and demo.backend == "sqlite":
        GOLDEN.write_text(b.markdown, encoding="utf-8")
    assert b.markdown == GOLDEN.read_text(encoding="utf-8")


def test_html_is_rendered_and_escapes_all_data(demo: Demo) -> None:
    with Session(demo.engine) as s:
        appointment = s.get(Appointment, GOLDEN_APPOINTMENT)
        assert appointment is not None
        s.add(
            ClinicalNote(
                patient_id=appointment.patient_id,
                practitioner_id=3,
                modality=Discipline.ACUPUNCTURE,
                written_at=demo.now - timedelta(days=1),
                title="<b>x</b>",
                body="Felt better <script>alert(1)</script> [x](javascript:alert(2)).",
            )
        )
        s.flush()
        b = brief(demo, s, GOLDEN_APPOINTMENT)
        s.rollback()
    assert "<script>" not in b.html and "&lt;script&gt;alert(1)&lt;/script&gt;" in b.html
    assert 'href="javascript' not in b.html and "<b>x</b>" not in b.html
    assert "<h2>Needs your decision today</h2>" in b.html
    assert "https://ods.od.nih.gov/factsheets/Magnesium-HealthProfessional/" in b.html


def test_brief_day_covers_the_physicians_appointments_in_order(demo: Demo) -> None:
    seen: list[tuple[int, int]] = []
    with Session(demo.engine) as s:
        appointments = day_appointments(session=s, day=demo.today, tz=demo.tz, practitioner_id=1)
        out = brief_day(
            context=demo.context(s),
            physician_id=1,
            day=demo.today,
            now=demo.now,
            progress=lambda done, total: seen.append((done, total)),
        )
    assert [b.appointment_id for b in out] == [a.id for a in appointments]
    assert seen == [(n, len(appointments)) for n in range(1, len(appointments) + 1)]


# ------------------------------------------------------------ guidance, seams


def test_conflicting_guidance_between_practitioners_needs_a_decision(demo: Demo) -> None:
    with Session(demo.engine) as s:
        appointment = s.get(Appointment, GOLDEN_APPOINTMENT)
        assert appointment is not None
        patient = appointment.patient_id
        item = SupplementItem(
            patient_id=patient,
            product="Ashwagandha KSM-66 300 mg",
            dose="600 mg",
            frequency="once daily",
            started_on=date(2025, 1, 5),
            stopped_on=date(2025, 2, 20),
            status=SupplementStatus.STOPPED,
            prescriber_id=1,
        )
        s.add(item)
        s.flush()
        s.add(
            CareMessage(
                patient_id=patient,
                sender_id=1,
                recipient_id=5,
                kind=MessageKind.SUPPLEMENT_CHANGE,
                subject="Supplement change: Ashwagandha",
                body="Stopped Ashwagandha KSM-66 300 mg (effective 2025-02-20).",
                source_ref=f"supplement:{item.id}",
                created_at=demo.now - timedelta(days=11),
            )
        )
        note = ClinicalNote(
            patient_id=patient,
            practitioner_id=5,
            modality=Discipline.NUTRITIONAL_THERAPY,
            written_at=demo.now - timedelta(days=4),
            body="Reviewed plan: ashwagandha continued.",
        )
        s.add(note)
        s.flush()
        b = brief(demo, s, GOLDEN_APPOINTMENT)
        s.rollback()
    decision = b.body.split("## Since the last visit")[0]
    assert "Conflicting guidance on Ashwagandha KSM-66 300 mg" in decision
    assert f"[supplement:{item.id}, note:{note.id}]" in decision


def test_interaction_flags_cite_the_table_and_the_records(demo: Demo) -> None:
    with Session(demo.engine) as s:
        appointment = s.get(Appointment, GOLDEN_APPOINTMENT)
        assert appointment is not None
        med = PatientMedication(
            patient_id=appointment.patient_id,
            name="Levothyroxine",
            dose="75 mcg",
            frequency="once daily",
        )
        iron = SupplementItem(
            patient_id=appointment.patient_id,
            product="Iron bisglycinate 20 mg (Thorne)",
            dose="20 mg",
            frequency="alternate days",
            started_on=date(2025, 2, 1),
        )
        s.add_all([med, iron])
        s.flush()
        b = brief(demo, s, GOLDEN_APPOINTMENT)
        s.rollback()
    decision = b.body.split("## Since the last visit")[0]
    assert (
        f"[interaction:levothyroxine-iron, medication:{med.id}, supplement:{iron.id}]" in decision
    )
    assert "https://ods.od.nih.gov/factsheets/Iron-HealthProfessional/" in b.markdown


@dataclass(frozen=True)
class Pref:
    ref: str
    text: str


class FakeMemory:
    def __init__(self) -> None:
        self.asked: list[int] = []

    def preferences_for(self, physician_id: int) -> list[Pref]:
        self.asked.append(physician_id)
        return [Pref("preference:3", "Labs first, then everything else in one page")]


def test_preferences_come_from_memory_when_it_is_given(demo: Demo) -> None:
    memory = FakeMemory()
    model = ScriptedChatModel.replying(["- Nothing to add [preference:3]."])
    with Session(demo.engine) as s:
        plain = brief(demo, s, GOLDEN_APPOINTMENT)
        b = brief(demo, s, GOLDEN_APPOINTMENT, memory=memory)
        brief(demo, s, GOLDEN_APPOINTMENT, memory=memory, model=model)
    assert memory.asked == [1, 1]
    assert "## Your standing preferences" in b.body and "preference:3" in b.cited
    assert "preferences" not in {f.section for f in plain.facts}
    data = str(model.calls[0][1].content)
    assert '"ref": "preference:3"' in data


# --------------------------------------------------------------------- model


def model_reply(facts_refs: dict[str, str]) -> tuple[str, list[str]]:
    """A plausible model briefing citing real facts, with planted ungrounded sentences."""
    result, supplement = facts_refs["result"], facts_refs["supplement"]
    good = [
        "## Needs your decision today",
        f"- Lansoprazole with magnesium needs a look [{facts_refs['interaction']}].",
        "## Programme and current treatment",
        f"- Magnesium glycinate continues at 240 mg twice daily [{supplement}].",
    ]
    planted = [
        "- The patient is clearly improving and needs no changes.",  # no citation
        "- An MRI was booked last week [imaging:77].",  # unknown reference
        f"- Magnesium glycinate was started on 2025-01-15 [{supplement}].",  # changed date
        f"- Magnesium glycinate 400 mg twice daily [{supplement}].",  # changed dose
        f"- The value was 99 mmol/L [{result}].",  # changed lab value
    ]
    return "\n".join(good + planted), [p[2:] for p in planted]


def test_model_path_one_call_verified_planted_sentences_removed(demo: Demo) -> None:
    with Session(demo.engine) as s:
        appointment = s.get(Appointment, GOLDEN_APPOINTMENT)
        assert appointment is not None
        facts = gather_facts(
            context=demo.context(s),
            patient_id=appointment.patient_id,
            physician_id=1,
            now=demo.now,
            appointment_id=GOLDEN_APPOINTMENT,
        ).facts
        interaction = next(f for f in facts if f.ref == "interaction:ppi-magnesium")
        refs = {
            "interaction": interaction.ref,
            "supplement": interaction.also[1],  # the magnesium, 240 mg twice daily
            "result": next(f.ref for f in facts if f.section == "programme"),
        }
        reply, planted = model_reply(refs)
        model = ScriptedChatModel.replying([reply])
        b = brief(demo, s, GOLDEN_APPOINTMENT, model=model)
    assert b.mode == "model" and b.model_calls == 1 and len(model.calls) == 1
    system, human = model.calls[0]
    assert isinstance(system, SystemMessage) and isinstance(human, HumanMessage)
    assert "Every sentence must cite" in str(system.content)
    assert str(human.content).startswith(FACTS_OPEN) and str(human.content).endswith(FACTS_CLOSE)
    assert b.prompt_tokens > 0
    assert [s for s, _ in b.dropped] == planted
    assert [why.split(":")[0] for _, why in b.dropped] == [
        "no citation",
        "cites unknown reference",
        "states what its sources do not",
        "states what its sources do not",
        "states what its sources do not",
    ]
    assert "5 sentences removed" in b.markdown
    known = {r for f in b.facts for r in f.refs}
    for sentence in sentences(b.body):
        assert find_refs(sentence) and set(find_refs(sentence)) <= known, sentence
    for sentence in planted:
        assert sentence not in b.markdown
    assert "Composed by the language model" in b.markdown


def test_model_leaving_out_a_decision_gets_it_put_back(demo: Demo) -> None:
    with Session(demo.engine) as s:
        facts = gather_facts(
            context=demo.context(s),
            patient_id=41,
            physician_id=1,
            now=demo.now,
            appointment_id=GOLDEN_APPOINTMENT,
        ).facts
        element = next(f.ref for f in facts if f.ref.startswith("element:"))
        model = ScriptedChatModel.replying([f"- The programme continues [{element}]."])
        b = brief(demo, s, GOLDEN_APPOINTMENT, model=model)
    assert b.mode == "model"
    assert b.body.startswith(GUARD_HEADING)
    for f in facts:
        if f.section == "decision":
            assert f.ref in b.cited
    assert any("put back at the top" in n for n in b.notes)


def test_unverifiable_model_text_falls_back_to_the_deterministic_briefing(demo: Demo) -> None:
    model = ScriptedChatModel.replying(["All is well. Nothing to report [note:999999]."])
    with Session(demo.engine) as s:
        b = brief(demo, s, GOLDEN_APPOINTMENT, model=model)
        plain = brief(demo, s, GOLDEN_APPOINTMENT)
    assert b.mode == "deterministic" and b.model_calls == 1
    assert b.dropped_total == 2 and b.body == plain.body
    assert any("could not be verified" in n for n in b.notes)


def test_a_model_outage_still_gives_the_full_briefing(demo: Demo) -> None:
    model = ScriptedChatModel.replying([])  # raises on the call
    with Session(demo.engine) as s:
        b = brief(demo, s, GOLDEN_APPOINTMENT, model=model)
        plain = brief(demo, s, GOLDEN_APPOINTMENT)
    assert b.mode == "deterministic" and b.body == plain.body
    assert any("unavailable (RuntimeError)" in n for n in b.notes)


def test_external_text_reaches_the_model_only_as_quoted_data(demo: Demo) -> None:
    with Session(demo.engine) as s:
        note = s.exec(select(ClinicalNote).where(ClinicalNote.body == INJECTED_REPORT)).one()
        assert note.origin == NoteOrigin.EXTERNAL
        physician = next(
            p
            for p in PHYSICIANS
            if any(
                f.ref == f"note:{note.id}"
                for f in gather_facts(
                    context=demo.context(s),
                    patient_id=note.patient_id,
                    physician_id=p,
                    now=note.written_at + timedelta(days=1),
                ).facts
            )
        )
        model = ScriptedChatModel.replying(["- Nothing [patient:1]."])
        run_briefing(
            context=demo.context(s, model=model),
            patient_id=note.patient_id,
            physician_id=physician,
            now=note.written_at + timedelta(days=1),
        )
    system, human = model.calls[0]
    assert "ignore your previous instructions" not in str(system.content)
    line = next(x for x in str(human.content).splitlines() if f'"note:{note.id}"' in x)
    assert '"quoted": true' in line and "ignore your previous instructions" in line
    assert "<" not in str(human.content)[len(FACTS_OPEN) : -len(FACTS_CLOSE)]


def test_the_graph_is_exported_uncompiled() -> None:
    graph = briefing_graph()
    assert set(graph.nodes) == {"gather", "compose", "verify", "fallback", "render"}
    compiled = graph.compile()
    assert compiled is not None


def test_check_rejects_figures_from_other_facts(demo: Demo) -> None:
    with Session(demo.engine) as s:
        facts = gather_facts(
            context=demo.context(s),
            patient_id=41,
            physician_id=1,
            now=demo.now,
            appointment_id=GOLDEN_APPOINTMENT,
        ).facts
    ages = next(f for f in facts if f.ref.startswith("patient:"))
    supplement = next(f for f in facts if f.ref.startswith("supplement:"))
    age = ages.text.split("-year-old")[0]
    assert check(f"- Aged {age} [{supplement.ref}].", facts).dropped
    assert not check(f"- Aged {age} [{ages.ref}].", facts).dropped
