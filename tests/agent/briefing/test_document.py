"""The briefing checker: ungrounded sentences go, with a count and a reason; decisions stay."""

from __future__ import annotations

from agent.briefing.document import GUARD_HEADING, check_with_guard, deterministic_body
from agent.documents.facts import Fact, facts_by_ref
from agent.documents.verify import check, dropped_summary, verify
from tools.citations import find_refs, split_sentences

FACTS = [
    Fact(
        "result:7",
        "Ferritin 12 ug/L (low; reference 15-150) on the Iron panel from Genova, "
        "resulted 2026-11-10",
        "decision",
    ),
    Fact(
        "interaction:levothyroxine-iron",
        "Possible interaction (moderate) between Levothyroxine and Iron bisglycinate 20 mg: "
        "iron lowers absorption; take levothyroxine at least 4 hours apart from iron",
        "decision",
        also=("medication:3", "supplement:9"),
    ),
    Fact(
        "supplement:4",
        "Supplement started 2026-11-01: Magnesium glycinate 120 mg, 240 mg twice daily",
        "changes",
    ),
    Fact("note:87", "Acupuncture note by Mei-Lin Zhou, 2026-11-12: Pain 5/10.", "changes"),
]

GOOD = [
    "Ferritin is low at 12 ug/L, resulted 2026-11-10 [result:7].",
    "Levothyroxine and iron should be taken 4 hours apart "
    "[interaction:levothyroxine-iron, medication:3].",
    "Magnesium glycinate 240 mg twice daily was started on 2026-11-01 [supplement:4].",
    "Acupuncture pain score was 5/10 [note:87].",
]
PLANTED = {
    "The patient seems to be doing well overall.": "no citation",
    "An MRI was booked [imaging:5].": "cites unknown reference",
    "Magnesium was started on 2026-11-15 [supplement:4].": "states what its sources do not",
    "Magnesium 400 mg twice daily was started [supplement:4].": "states what its sources do not",
    "Ferritin was 21 ug/L [result:7].": "states what its sources do not",
    "Iron started 2026-11-01 [result:7].": "states what its sources do not",  # wrong source
}


def test_planted_ungrounded_sentences_are_removed_and_counted() -> None:
    draft = "## Needs your decision today\n\n" + "\n".join(f"- {s}" for s in [*GOOD, *PLANTED])
    checked = check(draft, FACTS)
    assert checked.kept == GOOD
    assert [(s, why.split(":")[0]) for s, why in checked.dropped] == list(PLANTED.items())
    assert (
        "2026-11-15" in dict(checked.dropped)["Magnesium was started on 2026-11-15 [supplement:4]."]
    )
    for sentence in PLANTED:
        assert sentence not in checked.text


def test_a_sentence_may_use_every_fact_it_cites_and_only_those() -> None:
    table = facts_by_ref(FACTS)
    assert set(table) == {
        "result:7",
        "interaction:levothyroxine-iron",
        "medication:3",
        "supplement:9",
        "supplement:4",
        "note:87",
    }
    both = "Ferritin 12 ug/L and magnesium 240 mg [result:7, supplement:4]."
    assert verify(both, allowed_refs=set(table), facts=table).kept == [both]
    one = "Ferritin 12 ug/L and magnesium 240 mg [result:7]."
    assert verify(one, allowed_refs=set(table), facts=table).dropped


def test_headings_cannot_smuggle_figures() -> None:
    checked = check("## Results from 2026-12-01\n\n- Ferritin 12 ug/L [result:7].", FACTS)
    assert "## Results from 2026-12-01" not in checked.text
    assert checked.dropped[0][0] == "## Results from 2026-12-01"
    kept = check("## Results from 2026-11-10\n\n- Ferritin 12 ug/L [result:7].", FACTS)
    assert kept.text.startswith("## Results from 2026-11-10")


def test_deterministic_body_passes_the_checker_untouched() -> None:
    body = deterministic_body(FACTS)
    checked = check(body, FACTS)
    assert checked.dropped == []
    assert checked.text == body
    for sentence in checked.kept:
        assert find_refs(sentence)


def test_guard_puts_back_decisions_the_composed_text_left_out() -> None:
    draft = "## Since the last visit\n\n- Magnesium 240 mg twice daily [supplement:4]."
    checked = check_with_guard(draft, FACTS)
    assert checked.restored == 2
    assert checked.body.startswith(GUARD_HEADING)
    assert "[result:7]" in checked.body and "[interaction:levothyroxine-iron" in checked.body
    # A decision whose sentence was removed for a changed value counts as left out.
    wrong = "- Ferritin was 21 ug/L [result:7].\n- Iron and levothyroxine [medication:3]."
    again = check_with_guard(wrong, FACTS)
    assert again.restored == 1 and "Ferritin 12 ug/L" in again.body


def test_dropped_summary_says_how_many_and_why() -> None:
    assert dropped_summary([]) == "No sentence was removed."
    checked = check("\n".join(PLANTED), FACTS)
    summary = dropped_summary(checked.dropped)
    assert summary.startswith("6 sentences removed: ")
    assert "1 cited no source" in summary
    assert "4 stated a date or figure its sources do not" in summary


def test_split_keeps_post_nominals_with_their_sentence() -> None:
    # Names are written 'Mei-Lin Zhou (Lic.Ac.)' so the title's stops cannot split a fact.
    assert len(split_sentences("Acupuncture with Mei-Lin Zhou (Lic.Ac.), weekly [element:1].")) == 1
