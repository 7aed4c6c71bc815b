"""The abstract of a benchmark paper: its title, the sections its design writes (trial,
meta-analysis, cohort, review, case report), a length fitted to what PubMed holds, and its
publication types. literature_corpus draws the papers and calls these."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass

from literature_vocab import (  # beside this module
    EVENTS,
    SECONDARY,
    SETTINGS,
    Intervention,
    Subject,
)


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def _p(rng: random.Random) -> str:
    return rng.choice(("p < 0.001", "p = 0.002", "p = 0.01", "p = 0.03", "p = 0.04"))


def _ci(rng: random.Random, centre: float) -> str:
    width = round(rng.uniform(0.15, 0.9) * abs(centre) + 0.1, 1)
    return f"{centre:.1f} (95% CI {centre - width:.1f} to {centre + width:.1f})"


def title_for(rng: random.Random, design: str, iv: Intervention, c: str, p: str, s: Subject) -> str:
    x, what = iv.name, s.outcome[0]
    acronym = "".join(rng.choice("ABCDEFGHKLMPRSTVW") for _ in range(rng.randint(3, 5)))
    weeks = rng.choice((8, 12, 16, 24, 26, 52))
    options = {
        "rct": (
            f"{_cap(x)} for {c} in {p}: a randomised controlled trial",
            f"{_cap(x)} versus {iv.control} for {c}: a randomized, double-blind, "
            + ("placebo-controlled trial" if iv.control == "placebo" else "controlled trial"),
            f"Effect of {x} on {what} in {p} with {c}: a pragmatic randomised trial",
            f"{_cap(x)} in {c} ({acronym}): a multicentre randomised controlled trial",
            f"{weeks}-week {x} for {p} with {c}: a randomised, assessor-blinded trial",
        ),
        "meta": (
            f"{_cap(x)} for {c}: a systematic review and meta-analysis of randomised "
            "controlled trials",
            f"Efficacy and safety of {x} in {c}: a systematic review and network meta-analysis",
            f"{_cap(x)} for {what} in {c}: an updated meta-analysis",
            f"{_cap(x)} in {p} with {c}: a systematic review with trial sequential analysis",
        ),
        "cohort": (
            f"{_cap(x)} use and {what} in {p} with {c}: a prospective cohort study",
            f"Predictors of response to {x} in {c}: a retrospective cohort study of {p}",
            f"{_cap(x)} in routine care for {c}: a {rng.randint(3, 40)}-centre observational study",
            f"Long-term outcomes of {x} in {p} with {c}: the {acronym} cohort",
        ),
        "review": (
            f"{_cap(x)} in the management of {c}: a narrative review",
            f"Integrative approaches to {c} in {p}: a clinical review of {x}",
            f"Mechanisms of {x} in {c}: current evidence and future directions",
            f"{_cap(x)} for {c}: what the clinician needs to know",
        ),
        "case": (
            f"{rng.choice(EVENTS)} after {x} in a patient with {c}: a case report",
            f"{rng.choice(EVENTS)} associated with {x} in {c}: a case report and review of the "
            "literature",
            f"Sustained remission of {c} with {x}: a case report",
        ),
    }
    return rng.choice(options[design])


Sections = list[tuple[str | None, str]]  # (label or None, text) of an abstract


@dataclass(frozen=True)
class _Study:
    """What an abstract is about, drawn before its design's sections are written."""

    x: Intervention
    c: str  # the condition as a phrase
    p: str  # the population
    s: Subject
    n: int  # participants (people in a meta-analysis)
    what: str  # the outcome
    scale: str  # how it was measured
    weeks: int
    year: int
    background: list[str]
    secondary: str
    effect: float


def abstract_for(
    rng: random.Random, design: str, x: Intervention, c: str, p: str, s: Subject, n: int
) -> Sections:
    what, scale = s.outcome
    weeks = rng.choice((6, 8, 12, 16, 24))
    year = rng.choice((2023, 2024, 2025))
    background = _background(rng, design, x, c)
    secondary, effect = rng.choice(SECONDARY), round(rng.uniform(-9.5, -0.8), 1)
    study = _Study(x, c, p, s, n, what, scale, weeks, year, background, secondary, effect)
    return _BY_DESIGN.get(design, _case_report)(rng, study)


def _background(rng: random.Random, design: str, x: Intervention, c: str) -> list[str]:
    """Background sentences in a shuffled order; cohorts and some reviews get one more."""
    background = [
        f"{_cap(c)} is common in {rng.choice(SETTINGS)} and places a substantial burden on "
        "patients, families and health services.",
        f"Many people with {c} use {x.name}, yet evidence for its benefit remains "
        "inconsistent and guideline recommendations differ.",
        f"Conventional treatment of {c} often gives incomplete relief, and interest in "
        "integrative approaches is growing among patients and clinicians.",
        f"{_cap(x.name)} has been proposed to act through anti-inflammatory, autonomic and "
        "central mechanisms that are relevant to this population.",
    ]
    if design == "cohort":  # a realistic line that names the stronger design it lacks
        background.append(
            f"Randomised trials of {x.name} have been small and short, and real-world data on "
            "long-term use are scarce."
        )
    if design == "review" and rng.random() < 0.35:
        background.append(
            f"Evidence from recent meta-analyses suggests modest benefits of {x.name} in {c}, "
            "but trials are heterogeneous."
        )
    rng.shuffle(background)
    return background


def _rct(rng: random.Random, st: _Study) -> Sections:
    """A structured abstract of a randomised trial."""
    blind = rng.choice(("double-blind", "assessor-blinded", "open-label"))
    centres = rng.choice(("multicentre", "single-centre", "pragmatic"))
    sections: Sections = [
        ("BACKGROUND", " ".join(st.background[:2])),
        ("OBJECTIVE", f"To assess whether {st.x.name} improves {st.what} in {st.p} with {st.c}."),
        ("METHODS", f"In this {centres}, {blind} randomised trial, {st.p} with {st.c} (n = {st.n}) "
         f"were assigned 1:1 to {st.x.name} ({st.x.regimen}) or {st.x.control}. Randomisation was "
         "stratified by site and baseline severity. The primary outcome was the change in "
         f"{st.what}, measured with {st.scale}, at {st.weeks} weeks. {st.secondary} Analyses "
         "followed the intention-to-treat principle."),
        ("RESULTS", f"Of {st.n + rng.randint(20, 160)} people screened, {st.n} were randomised "
         f"and {st.n - rng.randint(3, max(4, st.n // 8))} completed follow-up. At {st.weeks} weeks "
         f"the adjusted mean difference in {st.what} was {_ci(rng, st.effect)} in favour of "
         f"{st.x.name} ({_p(rng)}). Responders (≥30% improvement) were "
         f"{rng.randint(40, 65)}% versus {rng.randint(18, 39)}%. Adverse events were mild "
         "and transient, most often bruising, bloating or headache, and no serious "
         "adverse events were attributed to treatment."),
        ("CONCLUSIONS", f"{_cap(st.x.name)} gave a clinically modest improvement in {st.what} "
         f"over {st.weeks} weeks. Longer trials with active comparators are needed before "
         "routine use can be recommended."),
    ]  # fmt: skip
    return sections


def _meta(rng: random.Random, st: _Study) -> Sections:
    """A structured abstract of a meta-analysis."""
    k = rng.randint(6, 38)
    sections = [
        ("BACKGROUND", " ".join(st.background[:2])),
        ("METHODS", f"We searched MEDLINE, Embase, CENTRAL, CINAHL and AMED from inception "
         f"to {rng.choice(('March', 'June', 'October'))} {st.year} for randomised controlled "
         f"trials comparing {st.x.name} with {st.x.control}, usual care or no treatment in {st.p} "
         f"with {st.c}. Two reviewers independently screened records, extracted data and "
         "assessed risk of bias with RoB 2. Random-effects models pooled standardised mean "
         "differences (SMD) with 95% confidence intervals, and certainty of evidence was "
         "rated with GRADE."),
        ("RESULTS", f"{k} trials with {st.n} participants were included; {rng.randint(1, k)} "
         f"were at low risk of bias. {_cap(st.x.name)} reduced {st.what} compared with control "
         f"(SMD {_ci(rng, st.effect / 10)}; I² = {rng.randint(12, 88)}%), with "
         f"{rng.choice(('low', 'moderate', 'very low'))}-certainty evidence. Effects were "
         "smaller in sham-controlled trials and were not sustained beyond 6 months. "
         "Adverse events did not differ between groups."),
        ("CONCLUSIONS", f"{_cap(st.x.name)} may slightly improve {st.what} in {st.c}, but the "
         "evidence is limited by small, heterogeneous trials at risk of bias. Adequately "
         "powered, sham-controlled trials are needed."),
    ]  # fmt: skip
    return sections


def _cohort(rng: random.Random, st: _Study) -> Sections:
    """A structured abstract of a cohort study."""
    years = rng.choice((2, 3, 5, 8, 10))
    sections = [
        ("BACKGROUND", " ".join(st.background[:2])),
        ("OBJECTIVE", f"To examine whether use of {st.x.name} is associated with {st.what} in "
         f"{st.p} with {st.c}."),
        ("METHODS", f"We followed {st.p} with {st.c} (n = {st.n}) recruited in "
         f"{rng.choice(SETTINGS)} for a median of {years} years. Use of {st.x.name} was "
         "recorded at baseline and at each follow-up visit. The outcome was "
         f"{st.what}, measured with {st.scale}. {st.secondary} Multivariable models adjusted for "
         "age, sex, body mass index, smoking, comorbidity and socioeconomic status."),
        ("RESULTS", f"{rng.randint(12, 48)}% of participants reported regular use of "
         f"{st.x.name}. Users had better {st.what} at follow-up (adjusted difference "
         f"{_ci(rng, st.effect)}; {_p(rng)}), and the association was stronger with longer "
         "use. Results were similar in sensitivity analyses excluding participants with "
         "missing data and using propensity-score matching."),
        ("CONCLUSIONS", f"In this cohort, use of {st.x.name} was associated with better {st.what}. "
         "Residual confounding cannot be excluded, and the findings should be tested in "
         + rng.choice(("randomised trials.", "other populations."))),
    ]  # fmt: skip
    return sections


def _review(rng: random.Random, st: _Study) -> Sections:
    """An unstructured narrative review."""
    text = " ".join(st.background[:3]) + (
        f" This review summarises the clinical evidence, proposed mechanisms and safety of "
        f"{st.x.name} in {st.c}, drawing on trials, observational studies and guidelines "
        f"published up to {st.year}. Most trials were small, of short duration and used "
        f"heterogeneous outcome measures, most often {st.scale}. Reported benefits were "
        f"largest for {st.what} and smallest for quality of life. Practical considerations "
        "for dosing, interactions with conventional medicines, quality control of "
        "products and patient selection are discussed, together with the gaps that "
        "future research should address. Clinicians should discuss expectations openly, "
        "monitor response with validated measures and stop treatment that does not help "
        "within an agreed period."
    )
    sections = [(None, text)]
    return sections


def _case_report(rng: random.Random, st: _Study) -> Sections:
    """An unstructured case report of harm."""
    age = rng.randint(24, 78)
    women = all("women" in w for w in st.s.populations) or any(
        k in st.c for k in ("menopaus", "ovary", "dysmenorrh")
    )
    sex = "woman" if women else rng.choice(("woman", "man"))
    text = (
        f"{_cap(st.x.name)} is widely used by people with {st.c}, and adverse effects are rarely "
        f"reported. We describe a {age}-year-old {sex} with {st.c} who presented "
        f"{rng.randint(2, 12)} weeks after starting {st.x.name} ({st.x.regimen}) with fatigue, "
        "nausea and abnormal laboratory results. Other causes were excluded after a "
        "thorough history, serology, imaging and review of all medicines and "
        f"supplements. Treatment with {st.x.name} was stopped, and the abnormalities "
        f"resolved over {rng.randint(2, 10)} weeks without specific therapy. A causality "
        "assessment rated the association as probable. The case illustrates that "
        "complementary treatments can cause clinically important harm, that patients "
        "may not volunteer their use, and that clinicians should ask about supplements "
        "and other therapies at every visit and report suspected reactions to the "
        "national pharmacovigilance scheme. We also review similar cases reported in the "
        "literature and discuss possible mechanisms and risk factors."
    )
    sections = [(None, text)]
    return sections


_BY_DESIGN: dict[str, Callable[[random.Random, _Study], Sections]] = {
    "rct": _rct,
    "meta": _meta,
    "cohort": _cohort,
    "review": _review,
}  # anything else: a case report


STUDY_EXTRAS = (
    "The protocol was registered prospectively and published before the analysis began.",
    "Outcome assessors and statisticians were unaware of group allocation throughout.",
    "Missing data were handled by multiple imputation under a missing-at-random assumption.",
    "Patient partners contributed to the choice of outcomes and to the interpretation of findings.",
    "Prespecified subgroup analyses examined age, sex, baseline severity and concurrent "
    "medication.",
    "Sensitivity analyses restricted to participants with complete data gave similar estimates.",
    "Adherence was monitored with diaries and, where applicable, capsule counts or attendance "
    "logs.",
    "Costs were collected from a health-service perspective for a separate economic evaluation.",
    "Effect sizes were interpreted against published minimal clinically important differences.",
    "Funding sources had no role in the design, conduct, analysis or reporting of the work.",
)
DISCUSSION_EXTRAS = (
    "Patients often do not disclose the use of complementary therapies unless asked directly.",
    "Product quality varies widely between manufacturers, and labelled doses are not always "
    "accurate.",
    "Interactions with anticoagulants, antidepressants and antiepileptic drugs deserve "
    "particular attention.",
    "Shared decision-making should weigh modest expected benefits against cost, burden and "
    "possible harms.",
    "Practitioners should hold appropriate qualifications and work within agreed referral "
    "pathways.",
    "Recording the therapy, dose and duration in the medical record supports later review.",
    "Reporting of adverse events in published studies remains incomplete and inconsistent.",
    "Further research should use standardised outcome sets and longer follow-up.",
)


def fit_length(rng: random.Random, sections: list[tuple[str | None, str]]) -> None:
    """Bring an abstract to a length drawn from 1,500-2,500 characters, as most are."""
    target = rng.randint(1500, 2500)
    structured = len(sections) > 1
    extras = list(STUDY_EXTRAS if structured else DISCUSSION_EXTRAS)
    rng.shuffle(extras)
    at = len(sections) - 2 if structured else 0  # methods/results, never the conclusions
    while sum(len(t) for _, t in sections) < target and extras:
        label, text = sections[at]
        sections[at] = (label, f"{text} {extras.pop()}")
    while sum(len(t) for _, t in sections) > 2500:
        label, text = sections[0]
        cut = text.rsplit(". ", 1)[0] + "."
        if cut == text:
            break
        sections[0] = (label, cut)


def design_types(rng: random.Random, design: str) -> list[str]:
    if design == "rct":
        return ["Journal Article", "Randomized Controlled Trial"] + (
            ["Multicenter Study"] if rng.random() < 0.3 else []
        )
    if design == "meta":
        return ["Journal Article", "Meta-Analysis", "Systematic Review"][
            : rng.choice((2, 3, 3))
        ] + (["Review"] if rng.random() < 0.5 else [])
    if design == "cohort":  # a third carry no design type, as older records often do
        return ["Journal Article"] + (["Observational Study"] if rng.random() < 0.67 else [])
    if design == "review":
        return ["Journal Article", "Review"]
    return ["Case Reports"] + (["Journal Article"] if rng.random() < 0.5 else [])
