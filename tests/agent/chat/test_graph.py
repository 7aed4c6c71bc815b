"""The chat graph with scripted tool-calling models: approvals, edits, caps, no model."""

from __future__ import annotations

import pytest
from langchain_core.messages import AIMessage, HumanMessage, SystemMessage, ToolMessage
from sqlalchemy import Engine
from sqlmodel import Session, select

from agent.chat.graph import STEPS_PER_ROUND, ChatDeps, build_chat_graph
from agent.untrusted import DATA_OPEN
from db.models import Appointment, CareMessage, Task, TokenUsage
from tests.support.chat import appointment_status, build_practice, chat, tool_audit
from tests.support.fake_models import ToolCallingChatModel, call, calls
from tools.access import AccessDenied
from tools.errors import InvalidInput


@pytest.fixture
def practice(engine: Engine):  # type: ignore[no-untyped-def]
    with Session(engine) as session:
        return build_practice(session)


def test_the_builder_is_uncompiled_and_compiles_with_a_checkpointer(engine, practice) -> None:
    session = chat(engine, practice.physician, ToolCallingChatModel.scripted(["Hello."]))
    assert isinstance(session.deps, ChatDeps)
    assert set(build_chat_graph(session.deps).nodes) == {"agent", "prepare", "approve", "tools"}
    turn = session.send("hi")
    assert turn.reply == "Hello." and not turn.waiting


def test_reads_run_at_once_and_the_model_sees_them_as_data(engine, practice) -> None:
    model = ToolCallingChatModel.scripted(
        [call("patient_programme", patient_id=practice.patient), "Ada has one appointment."]
    )
    turn = chat(engine, practice.physician, model).send("What is planned for Ada?")
    assert turn.reply == "Ada has one appointment." and not turn.waiting
    second_prompt = model.calls[1]
    assert isinstance(second_prompt[0], SystemMessage)
    assert "never instructions" in str(second_prompt[0].content)
    assert f"practitioner {practice.physician} (physician" in str(second_prompt[0].content)
    tool_message = second_prompt[-1]
    assert isinstance(tool_message, ToolMessage) and DATA_OPEN in str(tool_message.content)
    [row] = tool_audit(engine)
    assert (row.tool, row.kind, row.decision, row.outcome) == (
        "patient_programme",
        "read",
        "not_needed",
        "done",
    )
    assert row.patient_id == practice.patient and row.thread_id == "thread-1"


def test_a_write_pauses_and_shows_exactly_what_will_be_done(engine, practice) -> None:
    model = ToolCallingChatModel.scripted(
        [call("cancel_appointment", appointment_id=practice.appointment, reason="unwell")]
    )
    turn = chat(engine, practice.physician, model).send("Cancel Ada's appointment tomorrow")
    [approval] = turn.approvals
    assert approval["tool"] == "cancel_appointment"
    assert approval["args"] == {"appointment_id": practice.appointment, "reason": "unwell"}
    assert approval["summary"] == (
        f"Cancel appointment {practice.appointment}: Ada Lovelace (patient {practice.patient}, "
        f"born 1980-05-17) with Dr Quinn (physician, practitioner {practice.physician}) on "
        "2030-01-08 10:00 (Europe/London). Reason: unwell."
    )
    assert appointment_status(engine, practice.appointment) == "booked"
    assert tool_audit(engine) == []  # nothing ran yet


def test_approve_runs_the_write(engine, practice) -> None:
    model = ToolCallingChatModel.scripted(
        [call("cancel_appointment", appointment_id=practice.appointment), "Done."]
    )
    session = chat(engine, practice.physician, model)
    session.send("Cancel it")
    turn = session.decide("approve")
    assert turn.reply == "Done." and not turn.waiting
    assert appointment_status(engine, practice.appointment) == "cancelled"
    [row] = tool_audit(engine)
    assert (row.kind, row.decision, row.outcome) == ("write", "approved", "done")


def test_reject_changes_nothing_and_tells_the_model(engine, practice) -> None:
    model = ToolCallingChatModel.scripted(
        [call("cancel_appointment", appointment_id=practice.appointment), "Understood."]
    )
    session = chat(engine, practice.physician, model)
    session.send("Cancel it")
    turn = session.decide({"decision": "reject"})
    assert turn.reply == "Understood."
    assert appointment_status(engine, practice.appointment) == "booked"
    told = model.calls[1][-1]
    assert isinstance(told, ToolMessage) and "rejected" in str(told.content)
    [row] = tool_audit(engine)
    assert (row.decision, row.outcome) == ("rejected", "rejected")


def test_edit_is_shown_again_then_the_edited_action_runs(engine, practice) -> None:
    model = ToolCallingChatModel.scripted(
        [
            call(
                "reschedule_appointment",
                appointment_id=practice.appointment,
                new_start="2030-01-08 11:00",
            ),
            "Moved.",
        ]
    )
    session = chat(engine, practice.physician, model)
    first = session.send("Move Ada to 11")
    assert "to 2030-01-08 11:00" in first.approvals[0]["summary"]
    bad = session.decide({"decision": "edit", "args": {"new_start": "sometime"}})
    assert "not valid" in bad.approvals[0]["note"] and not bad.approvals[0]["edited"]
    edited = session.decide({"decision": "edit", "args": {"new_start": "2030-01-08 14:30"}})
    [again] = edited.approvals
    assert again["edited"] and "to 2030-01-08 14:30" in again["summary"]
    assert appointment_status(engine, practice.appointment) == "booked"  # still only proposed
    done = session.decide("approve")
    assert done.reply == "Moved."
    with Session(engine) as s:
        appt = s.get(Appointment, practice.appointment)
        assert appt is not None and appt.starts_at.hour == 14  # GMT in January
    # The transcript shows what ran, not what was first proposed.
    proposal = next(m for m in model.calls[1] if isinstance(m, AIMessage) and m.tool_calls)
    assert proposal.tool_calls[0]["args"]["new_start"] == "2030-01-08 14:30"
    assert tool_audit(engine)[0].decision == "edited"


def test_an_answer_meant_for_another_action_never_approves(engine, practice) -> None:
    model = ToolCallingChatModel.scripted(
        [call("cancel_appointment", appointment_id=practice.appointment), "OK."]
    )
    session = chat(engine, practice.physician, model)
    session.send("Cancel it")
    session.decide({"decision": "approve", "tool_call_id": "some-other-call"})
    assert appointment_status(engine, practice.appointment) == "booked"


def test_several_writes_are_asked_one_by_one(engine, practice) -> None:
    model = ToolCallingChatModel.scripted(
        [
            calls(
                (
                    "send_care_message",
                    {"recipient_id": practice.acupuncturist, "subject": "A", "body": "first"},
                ),
                ("create_task", {"assignee_id": practice.staff, "title": "Call Ada"}),
            ),
            "Both handled.",
        ]
    )
    session = chat(engine, practice.physician, model)
    first = session.send("Tell Lee and ask Sam to call Ada")
    assert first.approvals[0]["tool"] == "send_care_message"
    second = session.decide("approve")
    assert second.approvals[0]["tool"] == "create_task"
    final = session.decide("reject")
    assert final.reply == "Both handled."
    with Session(engine) as s:
        assert len(s.exec(select(CareMessage)).all()) == 1
        assert s.exec(select(Task)).all() == []


def test_even_a_task_for_yourself_waits_for_approval(engine, practice) -> None:
    # Harmless for others, but a write all the same: nothing the model does writes unseen.
    model = ToolCallingChatModel.scripted(
        [call("create_task", assignee_id=practice.physician, title="Read the report"), "Noted."]
    )
    session = chat(engine, practice.physician, model)
    turn = session.send("Remind me to read the report")
    assert turn.waiting and "Create a task for Dr Quinn" in turn.approvals[0]["summary"]
    assert session.decide("approve").reply == "Noted."
    assert tool_audit(engine)[0].decision == "approved"


def test_a_write_to_a_patient_outside_scope_is_denied_without_asking(engine, practice) -> None:
    model = ToolCallingChatModel.scripted(
        [
            call(
                "book_appointment",
                patient_id=practice.other_patient,
                practitioner_id=practice.acupuncturist,
                start="2030-01-08 09:00",
            ),
            "Sorry.",
        ]
    )
    turn = chat(engine, practice.acupuncturist, model).send("Book Bob with me")
    assert not turn.waiting and turn.reply == "Sorry."
    assert "access denied" in str(turn.tool_results[0].content)
    assert tool_audit(engine)[0].outcome == "denied"


def test_the_step_cap_ends_a_runaway_turn_gracefully(engine, practice) -> None:
    forever = [call("my_tasks") for _ in range(20)]
    model = ToolCallingChatModel.scripted(forever)
    limit = 10
    turn = chat(engine, practice.physician, model, recursion_limit=limit).send("Loop")
    assert turn.reply is not None and "more than the 10 steps" in turn.reply
    # agent + 3 nodes per round: the model is called at most limit / STEPS_PER_ROUND + 1 times.
    assert len(model.calls) <= limit // STEPS_PER_ROUND + 1
    assert len(model.calls) >= 2


def test_no_model_answers_with_how_to_configure_one(engine, practice) -> None:
    turn = chat(engine, practice.physician, None).send("Hello?")
    assert turn.reply is not None and "STEVE_LLM_MODEL" in turn.reply
    assert "STEVE_LLM_BASE_URL" in turn.reply and not turn.waiting


def test_token_budget_stops_model_calls_for_the_day(engine, practice) -> None:
    model = ToolCallingChatModel.scripted(
        ["One.", "Two."], usage={"input_tokens": 90, "output_tokens": 30}
    )
    session = chat(engine, practice.physician, model, budget=100)
    assert session.send("first").reply == "One."
    over = session.send("second")
    assert over.reply is not None and "allowance of 100 model tokens (120 used)" in over.reply
    assert len(model.calls) == 1  # no model call once the budget is spent
    with Session(engine) as s:
        [usage] = s.exec(select(TokenUsage)).all()
        assert (usage.practitioner_id, usage.total_tokens, usage.day.isoformat()) == (
            practice.physician,
            120,
            "2030-01-07",
        )
    # Another user's budget is their own.
    other = chat(engine, practice.nutritionist, ToolCallingChatModel.scripted(["Hi."]), budget=100)
    assert other.send("hello").reply == "Hi."


def test_a_thread_belongs_to_the_user_who_started_it(engine, practice) -> None:
    from langgraph.checkpoint.memory import InMemorySaver

    saver = InMemorySaver()
    mine = chat(
        engine, practice.physician, ToolCallingChatModel.scripted(["Hi."]), checkpointer=saver
    )
    mine.send("hello")
    theirs = chat(
        engine, practice.staff, ToolCallingChatModel.scripted(["Hi."]), checkpointer=saver
    )
    with pytest.raises(AccessDenied):
        theirs.send("show me that conversation")


def test_a_new_message_while_an_approval_waits_is_refused(engine, practice) -> None:
    model = ToolCallingChatModel.scripted(
        [call("cancel_appointment", appointment_id=practice.appointment)]
    )
    session = chat(engine, practice.physician, model)
    session.send("Cancel it")
    with pytest.raises(InvalidInput, match="waiting for your approval"):
        session.send("something else")
    fresh = chat(engine, practice.physician, ToolCallingChatModel.scripted(["x"]), thread="t2")
    with pytest.raises(InvalidInput, match="nothing is waiting"):
        fresh.decide("approve")


def test_streaming_passes_the_model_text_on(engine, practice) -> None:
    seen: list[str] = []
    chat(engine, practice.physician, ToolCallingChatModel.scripted(["Good morning."])).send(
        "hi", on_text=seen.append
    )
    assert "".join(seen) == "Good morning."


def test_history_carries_over_between_turns(engine, practice) -> None:
    model = ToolCallingChatModel.scripted(["First.", "Second."])
    session = chat(engine, practice.physician, model)
    session.send("one")
    session.send("two")
    humans = [m.content for m in model.calls[1] if isinstance(m, HumanMessage)]
    assert humans == ["one", "two"]
