"""Benchmark: ingest ~5,000 articles from saved PubMed XML and feed files, 10 protocol topics.

    python benchmarks/literature_ingest.py                     # 5,000 articles, SQLite
    python benchmarks/literature_ingest.py --articles 500 --keep-dir
    python benchmarks/literature_ingest.py --database-url postgresql://postgres@127.0.0.1/bench

A seeded corpus is written to a temporary directory first (not timed):

- `pubmed/search-NN.xml`: EFetch XML, 200 articles a file, as a saved PubMed search returns
  them (structured abstracts, authors, MeSH, keywords, reference lists, publication types
  mixing RCTs, meta-analyses, cohorts, reviews and case reports, retracted papers with a
  CommentsCorrections RetractionIn and their retraction notices). About 2% of the articles
  are in two saved searches; the earlier copy is still in process (no MeSH yet).
- `feeds/`: journal RSS 2.0 feeds (copies known by DOI), PubMed search RSS feeds (by PMID)
  and journal Atom "online first" feeds (by title only), which repeat ~10% of the articles,
  plus feed-only papers (~3%).

Then a fresh database is migrated (a SQLite file in the temporary directory unless
`--database-url` names an empty one), the ten demo clinical protocols are added and their
topics synced. Timed: `offline.read_directory` (read + parse), `ingest.ingest` (store,
deduplicate, grade, score against every topic, flush) and the commit; then the same again
in a new session, which must find nothing new or changed. The corpus knows what it holds,
so the stored rows are checked against it: distinct articles, PMIDs, retractions, grades
and which topic matches are about the paper's own subject.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import platform
import pstats
import random
import shutil
import sys
import tempfile
import time
import types
import zlib
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import sqlalchemy as sa
from sqlalchemy import Engine, event
from sqlmodel import Session, func, select

import tools.literature.ingest as ingest_module
from tools.db import make_engine, migrate
from tools.demo.vocab_clinical import CONDITIONS
from tools.literature.ingest import IngestReport, ingest
from tools.literature.offline import read_directory
from tools.literature.records import FetchResult
from tools.literature.text import title_key
from tools.literature.topics import sync_protocol_topics
from tools.models import Article, ArticleMatch, ClinicalProtocol, EvidenceGrade, WatchTopic

G = EvidenceGrade
NOW = datetime(2025, 11, 24, 6, 0, tzinfo=UTC)
PER_FILE = 200
TARGET_SECONDS = 15.0

# --------------------------------------------------------------------------- vocabulary


@dataclass(frozen=True)
class Intervention:
    name: str  # as a title or abstract names it
    mesh: str
    control: str
    regimen: str


Iv = Intervention
INTERVENTIONS: dict[str, Intervention] = {
    "acupuncture": Iv("acupuncture", "Acupuncture Therapy", "sham acupuncture",
                     "12 sessions over 8 weeks"),
    "electroacupuncture": Iv("electroacupuncture", "Electroacupuncture",
                            "sham electroacupuncture", "two sessions a week for 6 weeks"),
    "yoga": Iv("yoga", "Yoga", "usual care", "two 60-minute classes a week for 12 weeks"),
    "tai_chi": Iv("tai chi", "Tai Ji", "stretching and wellness education",
                 "three 45-minute sessions a week for 12 weeks"),
    "qigong": Iv("qigong", "Qigong", "a waiting list", "daily 30-minute practice for 12 weeks"),
    "mbsr": Iv("mindfulness-based stress reduction", "Mindfulness", "health education",
              "eight weekly 2.5-hour group sessions"),
    "massage": Iv("massage therapy", "Massage", "usual care", "weekly 60-minute sessions"),
    "spinal": Iv("spinal manipulation", "Manipulation, Spinal", "sham manipulation",
                "six sessions over 4 weeks"),
    "osteopathy": Iv("osteopathic manipulative treatment", "Manipulation, Osteopathic",
                    "light-touch sham treatment", "five sessions over 8 weeks"),
    "curcumin": Iv("curcumin", "Curcumin", "placebo", "500 mg twice daily"),
    "omega3": Iv("omega-3 fatty acids", "Fatty Acids, Omega-3", "placebo", "2 g a day"),
    "vitd": Iv("vitamin D3 supplementation", "Cholecalciferol", "placebo", "50 µg a day"),
    "probiotic": Iv("Lactobacillus plantarum 299v", "Probiotics", "placebo", "one capsule daily"),
    "ginger": Iv("ginger (Zingiber officinale)", "Zingiber officinale", "placebo", "1 g a day"),
    "magnesium": Iv("magnesium citrate", "Magnesium", "placebo", "600 mg a day"),
    "riboflavin": Iv("high-dose riboflavin", "Riboflavin", "placebo", "400 mg a day"),
    "coq10": Iv("coenzyme Q10", "Ubiquinone", "placebo", "200 mg a day"),
    "melatonin": Iv("prolonged-release melatonin", "Melatonin", "placebo", "2 mg at night"),
    "selenium": Iv("selenomethionine", "Selenium", "placebo", "200 µg a day"),
    "berberine": Iv("berberine", "Berberine", "placebo", "500 mg three times a day"),
    "med_diet": Iv("a Mediterranean diet", "Diet, Mediterranean", "a low-fat control diet",
                  "with dietitian support for 6 months"),
    "tre": Iv("time-restricted eating", "Intermittent Fasting", "usual eating habits",
             "with an 8-hour eating window"),
    "fodmap": Iv("a low-FODMAP diet", "Diet, Carbohydrate-Restricted",
                "traditional dietary advice", "led by a dietitian for 6 weeks"),
    "peppermint": Iv("enteric-coated peppermint oil", "Plant Oils", "placebo",
                    "182 mg three times a day"),
    "hypnotherapy": Iv("gut-directed hypnotherapy", "Hypnosis", "supportive therapy",
                      "12 weekly sessions"),
    "cbt": Iv("cognitive behavioural therapy", "Cognitive Behavioral Therapy", "usual care",
             "eight weekly sessions"),
    "cbti": Iv("digital CBT-I", "Cognitive Behavioral Therapy", "sleep hygiene education",
              "six weekly modules"),
    "ldn": Iv("low-dose naltrexone", "Naltrexone", "placebo", "4.5 mg at night"),
    "ashwagandha": Iv("Withania somnifera (ashwagandha) root extract", "Withania", "placebo",
                     "300 mg twice daily"),
    "lavender": Iv("oral lavender oil", "Lavandula", "placebo", "80 mg a day"),
    "breathwork": Iv("slow-paced breathing", "Breathing Exercises", "attention control",
                    "20 minutes twice daily"),
    "black_cohosh": Iv("black cohosh (Cimicifuga racemosa)", "Cimicifuga", "placebo",
                      "40 mg a day"),
    "isoflavones": Iv("soy isoflavones", "Isoflavones", "placebo", "100 mg a day"),
    "inositol": Iv("myo-inositol", "Inositol", "placebo", "2 g twice daily"),
    "resistance": Iv("supervised resistance training", "Resistance Training", "usual activity",
                    "three sessions a week"),
    "aerobic": Iv("aerobic exercise", "Exercise Therapy", "usual activity",
                 "150 minutes a week"),
    "herbal": Iv("Chinese herbal medicine", "Drugs, Chinese Herbal", "placebo granules",
                "one sachet twice daily"),
    "aromatherapy": Iv("inhaled aromatherapy", "Aromatherapy", "usual care",
                      "three times a day"),
    "cupping": Iv("dry cupping", "Cupping Therapy", "a waiting list", "weekly for 6 weeks"),
    "homeopathy": Iv("individualised homeopathy", "Homeopathy", "placebo", "for 12 weeks"),
    "music": Iv("music therapy", "Music Therapy", "standard care", "30 minutes daily"),
    "resveratrol": Iv("resveratrol", "Resveratrol", "placebo", "500 mg a day"),
    "silymarin": Iv("milk thistle (Silybum marianum)", "Silymarin", "placebo",
                   "140 mg three times a day"),
}  # fmt: skip
# Common in any integrative stream, and none of them a protocol's keyword or MeSH heading.
GENERAL = (
    "vitd",
    "curcumin",
    "omega3",
    "herbal",
    "ginger",
    "qigong",
    "cupping",
    "music",
    "homeopathy",
    "resveratrol",
    "electroacupuncture",
    "silymarin",
    "aromatherapy",
)
LATIN = ("Lactobacillus plantarum", "Zingiber officinale", "Withania somnifera",
         "Cimicifuga racemosa", "Silybum marianum")  # fmt: skip


@dataclass(frozen=True)
class Subject:
    topic: int | None  # index of the demo condition (protocol) it is about; None: none
    phrases: tuple[str, ...]  # how papers name it
    mesh: tuple[str, ...]
    populations: tuple[str, ...]
    interventions: tuple[str, ...]
    outcome: tuple[str, str]  # (what, measured with)


S = Subject
# The practice's ten protocol conditions, as papers name them (not always as the protocol does).
ON_TOPIC: tuple[Subject, ...] = (
    S(0, ("irritable bowel syndrome", "irritable bowel syndrome with diarrhoea", "IBS"),
      ("Irritable Bowel Syndrome",), ("adults", "women", "primary care patients"),
      ("fodmap", "peppermint", "hypnotherapy", "probiotic", "acupuncture", "herbal"),
      ("symptom severity", "the IBS Symptom Severity Scale (IBS-SSS)")),
    S(1, ("myalgic encephalomyelitis/chronic fatigue syndrome", "chronic fatigue syndrome",
          "ME/CFS"),
      ("Fatigue Syndrome, Chronic",), ("adults", "adolescents", "patients"),
      ("coq10", "ldn", "qigong", "cbt", "acupuncture", "herbal"),
      ("fatigue", "the Chalder Fatigue Scale")),
    S(2, ("fibromyalgia", "fibromyalgia syndrome"), ("Fibromyalgia",),
      ("women", "adults", "patients"),
      ("tai_chi", "ldn", "massage", "vitd", "electroacupuncture", "mbsr"),
      ("pain and function", "the revised Fibromyalgia Impact Questionnaire (FIQR)")),
    S(3, ("episodic migraine", "chronic migraine", "migraine"), ("Migraine Disorders",),
      ("adults", "women", "adolescents"),
      ("acupuncture", "magnesium", "riboflavin", "coq10", "yoga", "aerobic"),
      ("monthly migraine days", "a daily headache diary")),
    S(4, ("vasomotor symptoms of menopause", "menopausal symptoms", "perimenopause",
          "menopause"),
      ("Menopause", "Hot Flashes"), ("postmenopausal women", "perimenopausal women", "women"),
      ("acupuncture", "black_cohosh", "isoflavones", "cbt", "yoga", "hypnotherapy"),
      ("hot flush frequency", "the Menopause Rating Scale")),
    S(5, ("chronic low back pain", "chronic non-specific low back pain", "chronic pain"),
      ("Low Back Pain", "Chronic Pain"), ("adults", "older adults", "primary care patients"),
      ("osteopathy", "yoga", "acupuncture", "spinal", "mbsr", "massage"),
      ("back-related disability", "the Roland-Morris Disability Questionnaire")),
    S(6, ("insomnia", "chronic insomnia disorder", "insomnia in older adults"),
      ("Sleep Initiation and Maintenance Disorders",), ("adults", "older adults", "women"),
      ("cbti", "melatonin", "acupuncture", "tai_chi", "magnesium", "mbsr"),
      ("insomnia severity", "the Insomnia Severity Index")),
    S(7, ("generalised anxiety disorder", "generalized anxiety disorder", "anxiety"),
      ("Anxiety Disorders",), ("adults", "students", "outpatients"),
      ("lavender", "mbsr", "breathwork", "ashwagandha", "yoga", "acupuncture"),
      ("anxiety symptoms", "the GAD-7")),
    S(8, ("Hashimoto's thyroiditis", "hypothyroidism", "subclinical hypothyroidism"),
      ("Hypothyroidism", "Hashimoto Disease"), ("women", "adults", "patients"),
      ("selenium", "inositol", "vitd", "herbal"),
      ("thyroid peroxidase antibody titres", "serum TPOAb")),
    S(9, ("metabolic syndrome", "the metabolic syndrome"), ("Metabolic Syndrome",),
      ("adults", "older adults", "overweight adults"),
      ("berberine", "med_diet", "tre", "resistance", "omega3", "inositol"),
      ("insulin resistance", "HOMA-IR")),
)  # fmt: skip
OFF_TOPIC: tuple[Subject, ...] = (
    S(None, ("knee osteoarthritis",), ("Osteoarthritis, Knee",), ("older adults", "adults"),
      ("acupuncture", "tai_chi", "curcumin", "yoga", "massage", "cupping"),
      ("knee pain", "the WOMAC pain subscale")),
    S(None, ("non-alcoholic fatty liver disease",), ("Non-alcoholic Fatty Liver Disease",),
      ("adults", "overweight adults"), ("curcumin", "silymarin", "resveratrol", "omega3"),
      ("liver fat", "MRI proton density fat fraction")),
    S(None, ("chemotherapy-induced nausea and vomiting",), ("Nausea", "Vomiting"),
      ("women with breast cancer", "patients"), ("ginger", "acupuncture", "aromatherapy"),
      ("nausea episodes", "the MASCC Antiemesis Tool")),
    S(None, ("atopic dermatitis",), ("Dermatitis, Atopic",), ("children", "adults"),
      ("probiotic", "herbal", "vitd"), ("eczema severity", "the EASI score")),
    S(None, ("rheumatoid arthritis",), ("Arthritis, Rheumatoid",), ("adults", "women"),
      ("omega3", "curcumin", "tai_chi", "acupuncture"), ("disease activity", "the DAS28")),
    S(None, ("essential hypertension", "stage 1 hypertension"), ("Hypertension",),
      ("adults", "older adults"), ("qigong", "tai_chi", "breathwork", "herbal"),
      ("systolic blood pressure", "24-hour ambulatory monitoring")),
    S(None, ("polycystic ovary syndrome",), ("Polycystic Ovary Syndrome",), ("women",),
      ("inositol", "acupuncture", "berberine", "herbal"),
      ("menstrual regularity", "cycle diaries")),
    S(None, ("major depressive disorder", "depression"), ("Depressive Disorder, Major",),
      ("adults", "older adults", "students"), ("acupuncture", "yoga", "omega3", "music"),
      ("depressive symptoms", "the PHQ-9")),
    S(None, ("post-COVID-19 condition", "long COVID"), ("Post-Acute COVID-19 Syndrome",),
      ("adults",), ("qigong", "breathwork", "herbal", "acupuncture"),
      ("breathlessness", "the Dyspnoea-12 questionnaire")),
    S(None, ("plaque psoriasis",), ("Psoriasis",), ("adults",), ("curcumin", "herbal", "omega3"),
      ("skin clearance", "PASI 75")),
    S(None, ("ulcerative colitis",), ("Colitis, Ulcerative",), ("adults",),
      ("curcumin", "probiotic", "herbal"), ("clinical remission", "the partial Mayo score")),
    S(None, ("cancer-related fatigue",), ("Neoplasms",), ("cancer survivors", "women"),
      ("acupuncture", "qigong", "yoga", "herbal"), ("fatigue", "the FACIT-Fatigue scale")),
    S(None, ("postoperative pain after knee arthroplasty",), ("Pain, Postoperative",),
      ("patients", "older adults"), ("acupuncture", "music", "aromatherapy"),
      ("opioid consumption", "morphine milligram equivalents")),
    S(None, ("type 2 diabetes",), ("Diabetes Mellitus, Type 2",), ("adults", "older adults"),
      ("berberine", "herbal", "tai_chi", "resveratrol"), ("glycaemic control", "HbA1c")),
    S(None, ("seasonal allergic rhinitis",), ("Rhinitis, Allergic, Seasonal",),
      ("adults", "children"), ("acupuncture", "herbal", "probiotic"),
      ("nasal symptoms", "the Total Nasal Symptom Score")),
    S(None, ("primary dysmenorrhoea",), ("Dysmenorrhea",), ("young women", "students"),
      ("ginger", "acupuncture", "aromatherapy", "herbal"),
      ("menstrual pain", "a 100-mm visual analogue scale")),
    S(None, ("tension-type headache",), ("Tension-Type Headache",), ("adults",),
      ("acupuncture", "massage", "spinal"), ("headache days", "a headache diary")),
    S(None, ("mild cognitive impairment",), ("Cognitive Dysfunction",), ("older adults",),
      ("tai_chi", "qigong", "music", "omega3"),
      ("global cognition", "the Montreal Cognitive Assessment")),
    S(None, ("chronic neck pain",), ("Neck Pain",), ("adults", "office workers"),
      ("cupping", "massage", "spinal", "acupuncture"), ("neck pain", "the Neck Disability Index")),
    S(None, ("postmenopausal osteoporosis",), ("Osteoporosis, Postmenopausal",),
      ("postmenopausal women",), ("tai_chi", "isoflavones", "vitd", "resistance"),
      ("bone mineral density", "dual-energy X-ray absorptiometry")),
    S(None, ("chronic obstructive pulmonary disease",), ("Pulmonary Disease, Chronic Obstructive",),
      ("older adults", "patients"), ("tai_chi", "qigong", "breathwork"),
      ("exercise capacity", "the 6-minute walk test")),
    S(None, ("upper-limb recovery after stroke",), ("Stroke Rehabilitation",), ("patients",),
      ("electroacupuncture", "music", "acupuncture"), ("motor function", "the Fugl-Meyer scale")),
)  # fmt: skip

JOURNALS = (
    ("Journal of Integrative Gastroenterology", "J Integr Gastroenterol", "jig"),
    ("Headache and Complementary Medicine", "Headache Complement Med", "hcm"),
    ("Acupuncture and Meridian Research Letters", "Acupunct Meridian Res Lett", "amrl"),
    ("Integrative Pain Medicine", "Integr Pain Med", "ipm"),
    ("Journal of Nutritional Therapeutics", "J Nutr Ther", "jnt"),
    ("Mind-Body Medicine Review", "Mind Body Med Rev", "mbmr"),
    ("Sleep and Integrative Health", "Sleep Integr Health", "sih"),
    ("Women's Integrative Health", "Womens Integr Health", "wih"),
    ("Phytotherapy and Clinical Evidence", "Phytother Clin Evid", "pce"),
    ("Endocrine and Metabolic Integrative Care", "Endocr Metab Integr Care", "emic"),
    ("Family Practice Integrative", "Fam Pract Integr", "fpi"),
    ("Evidence in Traditional and Complementary Medicine", "Evid Tradit Complement Med", "etcm"),
)
RSS_JOURNALS = ("jig", "hcm", "ipm", "jnt", "sih", "wih")  # journals with an RSS 2.0 feed
ATOM_JOURNALS = ("amrl", "mbmr", "pce")  # journals with an Atom "online first" feed
LAST = ("Halvorsen", "Okafor", "Lindqvist", "Varga", "Zhou", "Brennan", "Nakamura", "Oduya",
        "Martínez", "Kowalski", "Rahman", "Fitzgerald", "Moreau", "Schmidt", "Tanaka", "Adeyemi",
        "Costa", "Novak", "Haddad", "Larsen", "Ivanova", "Park", "Singh", "O'Connor", "Rossi",
        "Müller", "Chen", "Ahmed", "Eriksson", "Papadopoulos", "Wang", "García", "Kim", "Li",
        "Nguyen", "Bianchi", "Jensen", "Kaur", "Silva", "Hughes")  # fmt: skip
FORE = ("Kari T", "Mara", "Piet E", "Wen-Li", "Sofia", "Oluwaseun", "Henrik", "Keiko", "Lucía",
        "Tomasz", "Farhana", "Declan", "Amélie", "Jonas", "Haruto", "Chiamaka", "Rafael",
        "Petra", "Yousef", "Ingrid", "Anya", "Min-jun", "Arjun", "Siobhan", "Giulia", "Lena",
        "Mei", "Omar", "Astrid", "Nikos")  # fmt: skip
DESIGNS = (("rct", 0.31), ("meta", 0.12), ("cohort", 0.25), ("review", 0.20), ("case", 0.12))
EXPECTED_GRADE = {
    "rct": G.RCT,
    "meta": G.SYSTEMATIC_REVIEW,
    "cohort": G.OBSERVATIONAL,
    "review": G.NARRATIVE,
    "case": G.CASE_REPORT,
    "notice": G.UNKNOWN,  # a retraction notice is not a study
}
SECONDARY = (
    "Secondary outcomes included health-related quality of life (SF-36), sleep quality (PSQI) "
    "and adverse events.",
    "Secondary outcomes were anxiety and depression (HADS), patient global impression of "
    "change and adverse events.",
    "Secondary outcomes included rescue medication use, days off work and safety.",
    "Secondary outcomes were physical function, adherence and participant satisfaction.",
)
EVENTS = ("Acute liver injury", "Drug-induced hepatitis", "Pneumothorax", "Hyperkalaemia",
          "Severe hypotension", "Contact dermatitis", "Serotonin syndrome",
          "Vertebral artery dissection", "Bleeding with warfarin")  # fmt: skip
SETTINGS = ("primary care", "a tertiary referral centre", "community clinics", "a university "
            "hospital", "integrative medicine clinics", "a national registry")  # fmt: skip

# ------------------------------------------------------------------------------- corpus


@dataclass
class Paper:
    idx: int
    pmid: str
    doi: str | None
    journal: tuple[str, str, str]
    subject: Subject
    design: str
    title: str
    sections: list[tuple[str | None, str]]
    pub_date: date
    authors: list[tuple[str, str]]
    mesh: list[str]
    keywords: list[str]
    pub_types: list[str]
    references: int
    retracted: bool = False
    notice_pmid: str | None = None  # the retraction notice, for a retracted paper
    retracts: Paper | None = None  # for a notice: the paper it retracts
    role: str = "pubmed"  # pubmed | feed-only (rss / pubmed-rss / atom-doi / atom)
    repeat: str | None = None  # doi | pmid | title: copied into a feed
    twice: bool = False  # in two saved searches

    @property
    def abstract(self) -> str:
        return " ".join(text for _, text in self.sections)


@dataclass
class Corpus:
    papers: list[Paper]
    files: dict[str, int] = field(default_factory=dict)  # kind -> files
    records: dict[str, int] = field(default_factory=dict)  # kind -> records written
    bytes: int = 0


def _weighted(rng: random.Random, options: Sequence[tuple[str, float]]) -> str:
    return rng.choices([o for o, _ in options], weights=[w for _, w in options])[0]


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def _p(rng: random.Random) -> str:
    return rng.choice(("p < 0.001", "p = 0.002", "p = 0.01", "p = 0.03", "p = 0.04"))


def _ci(rng: random.Random, centre: float) -> str:
    width = round(rng.uniform(0.15, 0.9) * abs(centre) + 0.1, 1)
    return f"{centre:.1f} (95% CI {centre - width:.1f} to {centre + width:.1f})"


def _title(rng: random.Random, design: str, iv: Intervention, c: str, p: str, s: Subject) -> str:
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


def _abstract(
    rng: random.Random, design: str, x: Intervention, c: str, p: str, s: Subject, n: int
) -> list[tuple[str | None, str]]:
    what, scale = s.outcome
    weeks = rng.choice((6, 8, 12, 16, 24))
    year = rng.choice((2023, 2024, 2025))
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
    secondary = rng.choice(SECONDARY)
    effect = round(rng.uniform(-9.5, -0.8), 1)
    if design == "rct":
        blind = rng.choice(("double-blind", "assessor-blinded", "open-label"))
        centres = rng.choice(("multicentre", "single-centre", "pragmatic"))
        sections: list[tuple[str | None, str]] = [
            ("BACKGROUND", " ".join(background[:2])),
            ("OBJECTIVE", f"To assess whether {x.name} improves {what} in {p} with {c}."),
            ("METHODS", f"In this {centres}, {blind} randomised trial, {p} with {c} (n = {n}) "
             f"were assigned 1:1 to {x.name} ({x.regimen}) or {x.control}. Randomisation was "
             "stratified by site and baseline severity. The primary outcome was the change in "
             f"{what}, measured with {scale}, at {weeks} weeks. {secondary} Analyses followed "
             "the intention-to-treat principle."),
            ("RESULTS", f"Of {n + rng.randint(20, 160)} people screened, {n} were randomised "
             f"and {n - rng.randint(3, max(4, n // 8))} completed follow-up. At {weeks} weeks "
             f"the adjusted mean difference in {what} was {_ci(rng, effect)} in favour of "
             f"{x.name} ({_p(rng)}). Responders (≥30% improvement) were "
             f"{rng.randint(40, 65)}% versus {rng.randint(18, 39)}%. Adverse events were mild "
             "and transient, most often bruising, bloating or headache, and no serious "
             "adverse events were attributed to treatment."),
            ("CONCLUSIONS", f"{_cap(x.name)} gave a clinically modest improvement in {what} "
             f"over {weeks} weeks. Longer trials with active comparators are needed before "
             "routine use can be recommended."),
        ]  # fmt: skip
    elif design == "meta":
        k = rng.randint(6, 38)
        sections = [
            ("BACKGROUND", " ".join(background[:2])),
            ("METHODS", f"We searched MEDLINE, Embase, CENTRAL, CINAHL and AMED from inception "
             f"to {rng.choice(('March', 'June', 'October'))} {year} for randomised controlled "
             f"trials comparing {x.name} with {x.control}, usual care or no treatment in {p} "
             f"with {c}. Two reviewers independently screened records, extracted data and "
             "assessed risk of bias with RoB 2. Random-effects models pooled standardised mean "
             "differences (SMD) with 95% confidence intervals, and certainty of evidence was "
             "rated with GRADE."),
            ("RESULTS", f"{k} trials with {n} participants were included; {rng.randint(1, k)} "
             f"were at low risk of bias. {_cap(x.name)} reduced {what} compared with control "
             f"(SMD {_ci(rng, effect / 10)}; I² = {rng.randint(12, 88)}%), with "
             f"{rng.choice(('low', 'moderate', 'very low'))}-certainty evidence. Effects were "
             "smaller in sham-controlled trials and were not sustained beyond 6 months. "
             "Adverse events did not differ between groups."),
            ("CONCLUSIONS", f"{_cap(x.name)} may slightly improve {what} in {c}, but the "
             "evidence is limited by small, heterogeneous trials at risk of bias. Adequately "
             "powered, sham-controlled trials are needed."),
        ]  # fmt: skip
    elif design == "cohort":
        years = rng.choice((2, 3, 5, 8, 10))
        sections = [
            ("BACKGROUND", " ".join(background[:2])),
            ("OBJECTIVE", f"To examine whether use of {x.name} is associated with {what} in "
             f"{p} with {c}."),
            ("METHODS", f"We followed {p} with {c} (n = {n}) recruited in "
             f"{rng.choice(SETTINGS)} for a median of {years} years. Use of {x.name} was "
             "recorded at baseline and at each follow-up visit. The outcome was "
             f"{what}, measured with {scale}. {secondary} Multivariable models adjusted for "
             "age, sex, body mass index, smoking, comorbidity and socioeconomic status."),
            ("RESULTS", f"{rng.randint(12, 48)}% of participants reported regular use of "
             f"{x.name}. Users had better {what} at follow-up (adjusted difference "
             f"{_ci(rng, effect)}; {_p(rng)}), and the association was stronger with longer "
             "use. Results were similar in sensitivity analyses excluding participants with "
             "missing data and using propensity-score matching."),
            ("CONCLUSIONS", f"In this cohort, use of {x.name} was associated with better {what}. "
             "Residual confounding cannot be excluded, and the findings should be tested in "
             + rng.choice(("randomised trials.", "other populations."))),
        ]  # fmt: skip
    elif design == "review":
        text = " ".join(background[:3]) + (
            f" This review summarises the clinical evidence, proposed mechanisms and safety of "
            f"{x.name} in {c}, drawing on trials, observational studies and guidelines "
            f"published up to {year}. Most trials were small, of short duration and used "
            f"heterogeneous outcome measures, most often {scale}. Reported benefits were "
            f"largest for {what} and smallest for quality of life. Practical considerations "
            "for dosing, interactions with conventional medicines, quality control of "
            "products and patient selection are discussed, together with the gaps that "
            "future research should address. Clinicians should discuss expectations openly, "
            "monitor response with validated measures and stop treatment that does not help "
            "within an agreed period."
        )
        sections = [(None, text)]
    else:  # case report
        age = rng.randint(24, 78)
        women = all("women" in w for w in s.populations) or any(
            k in c for k in ("menopaus", "ovary", "dysmenorrh")
        )
        sex = "woman" if women else rng.choice(("woman", "man"))
        text = (
            f"{_cap(x.name)} is widely used by people with {c}, and adverse effects are rarely "
            f"reported. We describe a {age}-year-old {sex} with {c} who presented "
            f"{rng.randint(2, 12)} weeks after starting {x.name} ({x.regimen}) with fatigue, "
            "nausea and abnormal laboratory results. Other causes were excluded after a "
            "thorough history, serology, imaging and review of all medicines and "
            f"supplements. Treatment with {x.name} was stopped, and the abnormalities "
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


def _fit(rng: random.Random, sections: list[tuple[str | None, str]]) -> None:
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


def _design_types(rng: random.Random, design: str) -> list[str]:
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


def make_papers(n: int, seed: int) -> list[Paper]:
    """`n` distinct papers: titles, identifiers and roles assigned deterministically."""
    rng = random.Random(seed)
    n_notices = max(1, n // 200)
    n_retracted = n_notices * 2
    papers: list[Paper] = []
    keys: set[str] = set()
    pmid = 37_800_000
    on_share = 0.17
    while len(papers) < n - n_notices:
        subject = rng.choice(ON_TOPIC) if rng.random() < on_share else rng.choice(OFF_TOPIC)
        design = _weighted(rng, DESIGNS)
        own = subject.topic is not None or rng.random() < 0.5
        x = INTERVENTIONS[rng.choice(subject.interventions if own else GENERAL)]
        c = rng.choice(subject.phrases)
        p = rng.choice(subject.populations)
        title = _title(rng, design, x, c, p, subject) + "."
        key = title_key(title)
        if key in keys:  # distinct papers get distinct titles (see the README on why)
            continue
        keys.add(key)
        idx = len(papers)
        pmid += rng.randint(1, 40)
        journal = rng.choice(JOURNALS)
        year = rng.choice((2023, 2024, 2024, 2025, 2025))
        size = {"case": 1, "meta": rng.randint(800, 60000)}.get(design, rng.randint(30, 480))
        sections = _abstract(rng, design, x, c, p, subject, size)
        _fit(rng, sections)
        mesh = ["Humans", *subject.mesh, x.mesh]
        mesh += rng.sample(["Female", "Male", "Adult", "Middle Aged", "Aged", "Treatment "
                            "Outcome", "Quality of Life", "Integrative Medicine"], 3)  # fmt: skip
        keywords = [c, x.name.split(" (")[0], rng.choice(("integrative medicine",
                    "complementary therapies", "evidence-based practice"))]  # fmt: skip
        authors = [(rng.choice(LAST), rng.choice(FORE)) for _ in range(rng.randint(2, 9))]
        papers.append(
            Paper(
                idx=idx,
                pmid=str(pmid),
                doi=(
                    f"10.5555/{journal[2]}.{year}.{idx:05d}".upper()
                    if rng.random() < 0.5
                    else f"10.5555/{journal[2]}.{year}.{idx:05d}"
                )
                if rng.random() < 0.95
                else None,
                journal=journal,
                subject=subject,
                design=design,
                title=title,
                sections=sections,
                pub_date=date(year, rng.randint(1, 12), rng.randint(1, 28)),
                authors=authors,
                mesh=list(dict.fromkeys(mesh)),
                keywords=keywords if rng.random() < 0.6 else [],
                pub_types=_design_types(rng, design),
                references=rng.choice((0, 0, 8, 15, 25, 40)),
            )
        )
    # Retractions: some with their notice in the corpus too.
    retracted = rng.sample(papers, n_retracted)
    for paper in retracted:
        paper.retracted = True
        paper.pub_types = [*paper.pub_types, "Retracted Publication"]
    for original in retracted[:n_notices]:
        pmid += rng.randint(1, 40)
        notice = Paper(
            idx=len(papers),
            pmid=str(pmid),
            doi=None,
            journal=original.journal,
            subject=original.subject,
            design="notice",
            title=f"Retraction: {original.title}",
            sections=[],
            pub_date=original.pub_date + timedelta(days=rng.randint(120, 500)),
            authors=[],
            mesh=[],
            keywords=[],
            pub_types=["Retraction of Publication"],
            references=0,
            retracts=original,
        )
        original.notice_pmid = notice.pmid
        papers.append(notice)
    # Roles: feed-only papers, papers a feed repeats, papers in two saved searches.
    studies = [p for p in papers if p.design != "notice" and not p.retracted]
    pool = rng.sample(studies, len(studies))
    n_feed_only = round(n * 0.03)
    for i, paper in enumerate(pool[:n_feed_only]):
        paper.role = ("rss", "pubmed-rss", "atom-doi", "atom")[i % 4]
        paper.pub_types = []
        paper.mesh = []
        if paper.role in ("rss", "atom-doi") and paper.doi is None:
            paper.doi = f"10.5555/{paper.journal[2]}.{paper.pub_date.year}.{paper.idx:05d}"
        if paper.role == "rss":
            paper.journal = _journal(rng.choice(RSS_JOURNALS))
        elif paper.role.startswith("atom"):
            paper.journal = _journal(rng.choice(ATOM_JOURNALS))
    rest = [
        p for p in papers if p.role == "pubmed" and p.design != "notice" and p.notice_pmid is None
    ]
    rest = rng.sample(rest, len(rest))
    n_repeats = round(n * 0.10)
    by_doi = [p for p in rest if p.doi and p.journal[2] in RSS_JOURNALS]
    for paper in by_doi[: round(n_repeats * 0.4)]:
        paper.repeat = "doi"
    by_pmid = [p for p in rest if p.repeat is None]
    for paper in by_pmid[: round(n_repeats * 0.3)]:
        paper.repeat = "pmid"
    by_title = [p for p in rest if p.repeat is None and p.journal[2] in ATOM_JOURNALS]
    for paper in by_title[: n_repeats - round(n_repeats * 0.4) - round(n_repeats * 0.3)]:
        paper.repeat = "title"
    for paper in [p for p in rest if p.repeat is None][: round(n * 0.02)]:
        paper.twice = True
    return papers


def _journal(code: str) -> tuple[str, str, str]:
    return next(j for j in JOURNALS if j[2] == code)


def _italics(escaped: str) -> str:
    for name in LATIN:
        escaped = escaped.replace(name, f"<i>{name}</i>")
    return escaped


def _x(text: str) -> str:
    return escape(text)


def _author_xml(last: str, fore: str, first: bool) -> list[str]:
    initials = "".join(w[0] for w in fore.replace("-", " ").split())
    out = [
        '                <Author ValidYN="Y">',
        f"                    <LastName>{_x(last)}</LastName>",
        f"                    <ForeName>{_x(fore)}</ForeName>",
        f"                    <Initials>{initials}</Initials>",
    ]
    if first:
        out += [
            "                    <AffiliationInfo>",
            "                        <Affiliation>Department of Integrative Medicine, Example "
            "University Hospital, Exampletown.</Affiliation>",
            "                    </AffiliationInfo>",
        ]
    return [*out, "                </Author>"]


def pubmed_article(p: Paper, rng: random.Random, *, indexed: bool = True) -> str:
    """One <PubmedArticle> as EFetch prints it (indented, char refs for non-ASCII)."""
    status = "MEDLINE" if indexed else "In-Data-Review"
    d = p.pub_date
    lines = [
        "<PubmedArticle>",
        f'    <MedlineCitation Status="{status}" Owner="NLM">',
        f'        <PMID Version="1">{p.pmid}</PMID>',
        "        <DateRevised>",
        f"            <Year>{d.year}</Year>",
        f"            <Month>{d.month:02d}</Month>",
        f"            <Day>{d.day:02d}</Day>",
        "        </DateRevised>",
        '        <Article PubModel="Print-Electronic">',
        "            <Journal>",
        f'                <ISSN IssnType="Electronic">5555-{p.journal[2][:2].upper()}01</ISSN>',
        '                <JournalIssue CitedMedium="Internet">',
        f"                    <Volume>{d.year - 2010}</Volume>",
        f"                    <Issue>{d.month}</Issue>",
        "                    <PubDate>",
    ]
    if p.idx % 17 == 0:  # some issues print a MedlineDate
        months = ["Jan-Feb", "Mar-Apr", "May-Jun", "Jul-Aug", "Sep-Oct", "Nov-Dec"]
        lines.append(
            f"                        <MedlineDate>{d.year} {months[(d.month - 1) // 2]}"
            "</MedlineDate>"
        )
    else:
        lines += [
            f"                        <Year>{d.year}</Year>",
            f"                        <Month>{d.strftime('%b')}</Month>",
            f"                        <Day>{d.day:02d}</Day>",
        ]
    lines += [
        "                    </PubDate>",
        "                </JournalIssue>",
        f"                <Title>{_x(p.journal[0])}</Title>",
        f"                <ISOAbbreviation>{_x(p.journal[1])}</ISOAbbreviation>",
        "            </Journal>",
        f"            <ArticleTitle>{_italics(_x(p.title))}</ArticleTitle>",
        "            <Pagination>",
        f"                <MedlinePgn>e{p.idx + 1000}</MedlinePgn>",
        "            </Pagination>",
    ]
    if p.doi:
        lines.append(f'            <ELocationID EIdType="doi" ValidYN="Y">{p.doi}</ELocationID>')
    if p.sections:
        lines.append("            <Abstract>")
        for label, text in p.sections:
            attrs = f' Label="{label}" NlmCategory="{label}"' if label else ""
            lines.append(
                f"                <AbstractText{attrs}>{_italics(_x(text))}</AbstractText>"
            )
        lines += [
            f"                <CopyrightInformation>© {d.year} The Authors.</CopyrightInformation>",
            "            </Abstract>",
        ]
    if p.authors:
        lines.append('            <AuthorList CompleteYN="Y">')
        for i, (last, fore) in enumerate(p.authors):
            lines += _author_xml(last, fore, i == 0)
        lines.append("            </AuthorList>")
    lines += ["            <Language>eng</Language>", "            <PublicationTypeList>"]
    lines += [
        f'                <PublicationType UI="D0{zlib.crc32(t.encode()) % 100000:05d}">{_x(t)}'
        "</PublicationType>"
        for t in p.pub_types
    ]
    lines += [
        "            </PublicationTypeList>",
        '            <ArticleDate DateType="Electronic">',
        f"                <Year>{d.year}</Year>",
        f"                <Month>{d.month:02d}</Month>",
        f"                <Day>{d.day:02d}</Day>",
        "            </ArticleDate>",
        "        </Article>",
        "        <MedlineJournalInfo>",
        "            <Country>England</Country>",
        f"            <MedlineTA>{_x(p.journal[1])}</MedlineTA>",
        "        </MedlineJournalInfo>",
    ]
    comments = []
    if p.retracted:
        ref_pmid = p.notice_pmid or str(40_000_000 + p.idx)
        comments.append(
            ("RetractionIn", f"{p.journal[1]}. {d.year + 1}. doi: 10.5555/retr.{p.idx}", ref_pmid)
        )
    if p.retracts is not None:
        o = p.retracts
        comments.append(("RetractionOf", f"{o.journal[1]}. {o.pub_date.year}", o.pmid))
    comments += [
        ("Cites", f"Example J. {2010 + i}", str(30_000_000 + p.idx * 7 + i))
        for i in range(rng.choice((0, 0, 1, 2)))
    ]
    if comments:
        lines.append("        <CommentsCorrectionsList>")
        for ref_type, source, ref in comments:
            lines += [
                f'            <CommentsCorrections RefType="{ref_type}">',
                f"                <RefSource>{_x(source)}</RefSource>",
                f'                <PMID Version="1">{ref}</PMID>',
                "            </CommentsCorrections>",
            ]
        lines.append("        </CommentsCorrectionsList>")
    if indexed and p.mesh:
        lines.append("        <MeshHeadingList>")
        for i, term in enumerate(p.mesh):
            major = "Y" if 0 < i < 3 else "N"
            lines += [
                "            <MeshHeading>",
                f'                <DescriptorName UI="D{zlib.crc32(term.encode()) % 1000000:06d}" '
                f'MajorTopicYN="{major}">{_x(term)}</DescriptorName>',
                "            </MeshHeading>",
            ]
        lines.append("        </MeshHeadingList>")
    if p.keywords:
        lines.append('        <KeywordList Owner="NOTNLM">')
        lines += [f'            <Keyword MajorTopicYN="N">{_x(k)}</Keyword>' for k in p.keywords]
        lines.append("        </KeywordList>")
    lines += [
        "    </MedlineCitation>",
        "    <PubmedData>",
        "        <History>",
        '            <PubMedPubDate PubStatus="received">',
        f"                <Year>{d.year - 1}</Year>",
        f"                <Month>{d.month}</Month>",
        f"                <Day>{d.day}</Day>",
        "            </PubMedPubDate>",
        '            <PubMedPubDate PubStatus="pubmed">',
        f"                <Year>{d.year}</Year>",
        f"                <Month>{d.month}</Month>",
        f"                <Day>{d.day}</Day>",
        "            </PubMedPubDate>",
        "        </History>",
        "        <PublicationStatus>ppublish</PublicationStatus>",
        "        <ArticleIdList>",
        f'            <ArticleId IdType="pubmed">{p.pmid}</ArticleId>',
    ]
    if p.doi:
        lines.append(f'            <ArticleId IdType="doi">{p.doi}</ArticleId>')
    lines.append("        </ArticleIdList>")
    if p.references:
        lines.append("        <ReferenceList>")
        for i in range(p.references):
            lines += [
                "            <Reference>",
                f"                <Citation>{rng.choice(LAST)} A, {rng.choice(LAST)} B. "
                f"Example study {i + 1}. Example J. {rng.randint(1995, 2024)};"
                f"{rng.randint(1, 60)}:{rng.randint(1, 900)}.</Citation>",
                "                <ArticleIdList>",
                f'                    <ArticleId IdType="doi">10.5555/ref.{p.idx}.{i}</ArticleId>',
                f'                    <ArticleId IdType="pubmed">{20_000_000 + p.idx * 50 + i}'
                "</ArticleId>",
                "                </ArticleIdList>",
                "            </Reference>",
            ]
        lines.append("        </ReferenceList>")
    lines += ["    </PubmedData>", "</PubmedArticle>"]
    return "\n".join(lines)


EFETCH_HEAD = (
    '<?xml version="1.0" ?>\n<!DOCTYPE PubmedArticleSet PUBLIC "-//NLM//DTD PubMedArticle, '
    '1st January 2025//EN" "https://dtd.nlm.nih.gov/ncbi/pubmed/out/pubmed_250101.dtd">\n'
    "<PubmedArticleSet>\n"
)


def _rfc822(d: date, hour: int) -> str:
    return format_datetime(datetime(d.year, d.month, d.day, hour, 0, tzinfo=UTC))


def _teaser(p: Paper) -> str:
    """The one or two sentences a journal feed shows instead of the abstract."""
    results = next((t for label, t in p.sections if label == "RESULTS"), p.abstract)
    return ". ".join(results.split(". ")[:2]).rstrip(".") + "."


def _full_name(fore: str, last: str) -> str:
    return f"{fore} {last}"


def rss_item(p: Paper, rng: random.Random) -> str:
    title = p.title.rstrip(".")
    if p.retracted:
        title = f"RETRACTED: {title}"
    link = f"https://journals.example.org/{p.journal[2]}/doi/{p.doi}"
    creators = "".join(
        f"\n      <dc:creator>{_x(_full_name(f, last))}</dc:creator>" for last, f in p.authors
    )
    return (
        "    <item>\n"
        f"      <title>{_x(_italics(_x(title)))}</title>\n"
        f"      <link>{link}</link>\n"
        f'      <guid isPermaLink="true">{link}</guid>\n'
        f"      <description><![CDATA[<p>{_x(_teaser(p))}</p>]]></description>{creators}\n"
        f"      <pubDate>{_rfc822(p.pub_date, rng.randint(0, 23))}</pubDate>\n"
        f"      <category>{_x(p.subject.phrases[0])}</category>\n"
        f"      <prism:publicationName>{_x(p.journal[0])}</prism:publicationName>\n"
        f"      <prism:doi>{p.doi}</prism:doi>\n"
        f"      <prism:coverDisplayDate>{p.pub_date.strftime('%B %Y')}</prism:coverDisplayDate>\n"
        f"      <dc:identifier>doi:{p.doi}</dc:identifier>\n"
        "    </item>\n"
    )


def journal_rss(code: str, items: list[str]) -> str:
    title, _iso, _ = _journal(code)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0"\n'
        '     xmlns:dc="http://purl.org/dc/elements/1.1/"\n'
        '     xmlns:prism="http://prismstandard.org/namespaces/basic/2.0/"\n'
        '     xmlns:content="http://purl.org/rss/1.0/modules/content/"\n'
        '     xmlns:atom="http://www.w3.org/2005/Atom">\n  <channel>\n'
        f"    <title>{_x(title)}</title>\n"
        f"    <link>https://journals.example.org/{code}</link>\n"
        f"    <description>Latest articles from {_x(title)}</description>\n"
        f'    <atom:link href="https://journals.example.org/{code}/feed/rss" rel="self" '
        'type="application/rss+xml"/>\n'
        "    <language>en-gb</language>\n"
        f"    <lastBuildDate>{format_datetime(NOW)}</lastBuildDate>\n"
        + "".join(items)
        + "  </channel>\n</rss>\n"
    )


def pubmed_rss_item(p: Paper, rng: random.Random) -> str:
    utm = "utm_source=Other&utm_medium=rss&utm_campaign=pubmed-2&fc=20251124060000"
    link = f"https://pubmed.ncbi.nlm.nih.gov/{p.pmid}/?{utm}"
    d = p.pub_date
    cite = f"<p><b>{_x(p.journal[1])}</b>. {d.year} {d.strftime('%b')} {d.day}:e{p.idx + 1000}."
    cite += f" doi: {p.doi}.</p>" if p.doi else "</p>"
    body = "".join(
        f"<p><b>{label}: </b>{_x(text)}</p>" if label else f"<p>{_x(text)}</p>"
        for label, text in p.sections
    )
    trailer = f'<p>PMID:<a href="https://pubmed.ncbi.nlm.nih.gov/{p.pmid}/">{p.pmid}</a>'
    trailer += f" | DOI:<a href=https://doi.org/{p.doi}>{p.doi}</a></p>" if p.doi else "</p>"
    description = f"{cite}<p><b>ABSTRACT</b></p>{body}{trailer}"
    creators = "".join(
        f"\n      <dc:creator>{_x(last)} {''.join(w[0] for w in f.replace('-', ' ').split())}"
        "</dc:creator>"
        for last, f in p.authors
    )
    ids = f"\n      <dc:identifier>pmid:{p.pmid}</dc:identifier>"
    if p.doi:
        ids += f"\n      <dc:identifier>doi:{p.doi}</dc:identifier>"
    return (
        "    <item>\n"
        f"      <title>{_x(_italics(_x(p.title)))}</title>\n"
        f"      <link>{_x(link)}</link>\n"
        f"      <description>{_x(description)}</description>{creators}\n"
        f"      <dc:date>{d.isoformat()}</dc:date>\n"
        f"      <dc:source>{_x(p.journal[0])}</dc:source>{ids}\n"
        f'      <guid isPermaLink="false">pubmed:{p.pmid}</guid>\n'
        f"      <pubDate>{_rfc822(d, rng.randint(0, 23))}</pubDate>\n"
        "    </item>\n"
    )


def pubmed_rss(n: int, items: list[str]) -> str:
    link = f"https://pubmed.ncbi.nlm.nih.gov/rss/search/1Saved{n}Search/?limit=100"
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<rss xmlns:dc="http://purl.org/dc/elements/'
        '1.1/" xmlns:content="http://purl.org/rss/1.0/modules/content/" xmlns:atom="http://'
        'www.w3.org/2005/Atom" version="2.0">\n  <channel>\n'
        f"    <title>(integrative medicine) AND (saved search {n}) - PubMed</title>\n"
        f"    <link>{_x(link)}</link>\n"
        f"    <description>saved search {n} - PubMed</description>\n"
        "    <generator>PubMed RSS feeds (2.0)</generator>\n"
        f"    <lastBuildDate>{format_datetime(NOW)}</lastBuildDate>\n"
        + "".join(items)
        + "  </channel>\n</rss>\n"
    )


def atom_entry(p: Paper, rng: random.Random, *, with_doi: bool) -> str:
    ident = f"https://doi.org/{p.doi}" if with_doi else f"urn:uuid:{rng.getrandbits(128):032x}"
    authors = "".join(
        f"\n    <author><name>{_x(_full_name(f, last))}</name></author>" for last, f in p.authors
    )
    summary = f"<p>{_x(_teaser(p))}</p>"
    return (
        "  <entry>\n"
        f'    <title type="html">{_x(_italics(_x(p.title.rstrip("."))))}</title>\n'
        f"    <id>{ident}</id>\n"
        f'    <link rel="alternate" type="text/html" href="/articles/{p.pub_date.year}/'
        f'{p.idx}"/>\n'
        f"    <published>{p.pub_date.isoformat()}T08:00:00Z</published>\n"
        f"    <updated>{p.pub_date.isoformat()}T10:00:00Z</updated>{authors}\n"
        f'    <category term="{_x(p.subject.phrases[0])}"/>\n'
        f'    <summary type="html">{_x(summary)}</summary>\n'
        "  </entry>\n"
    )


def atom_feed(code: str, entries: list[str]) -> str:
    title = _journal(code)[0]
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom" '
        'xml:lang="en">\n'
        f"  <title>{_x(title)}</title>\n  <subtitle>Online first articles</subtitle>\n"
        f'  <link rel="self" href="https://{code}.example.org/feeds/online-first.atom"/>\n'
        f'  <link rel="alternate" href="https://{code}.example.org/"/>\n'
        f"  <id>tag:{code}.example.org,2025:online-first</id>\n"
        f"  <updated>{NOW.isoformat()}</updated>\n" + "".join(entries) + "</feed>\n"
    )


def write_corpus(papers: list[Paper], directory: Path, seed: int) -> Corpus:
    rng = random.Random(seed + 1)
    corpus = Corpus(papers=papers)
    (directory / "pubmed").mkdir(parents=True)
    (directory / "feeds").mkdir(parents=True)
    in_pubmed = [p for p in papers if p.role == "pubmed"]
    rng.shuffle(in_pubmed)
    chunks = [in_pubmed[i : i + PER_FILE] for i in range(0, len(in_pubmed), PER_FILE)]
    # A paper in two saved searches: the earlier file has it still in process (no MeSH).
    extra: list[list[tuple[Paper, bool]]] = [[] for _ in chunks]
    indexed = {id(p): True for p in in_pubmed}
    for number, chunk in enumerate(chunks):
        for paper in chunk:
            if paper.twice and len(chunks) > 1:
                other = (number + 1 + rng.randrange(len(chunks) - 1)) % len(chunks)
                if other > number:
                    indexed[id(paper)] = False
                    extra[other].append((paper, True))
                else:
                    extra[other].append((paper, False))
    pubmed_records = 0
    for number, chunk in enumerate(chunks):
        parts = [(p, indexed[id(p)]) for p in chunk] + extra[number]
        body = "\n".join(pubmed_article(p, rng, indexed=ix) for p, ix in parts)
        data = (EFETCH_HEAD + body + "\n</PubmedArticleSet>\n").encode("ascii", "xmlcharrefreplace")
        (directory / "pubmed" / f"search-{number + 1:02d}.xml").write_bytes(data)
        corpus.bytes += len(data)
        pubmed_records += len(parts)
    corpus.files["PubMed EFetch XML"] = len(chunks)
    corpus.records["PubMed EFetch XML"] = pubmed_records

    rss: dict[str, list[str]] = {code: [] for code in RSS_JOURNALS}
    searches: list[list[str]] = [[], [], []]
    atom: dict[str, list[str]] = {code: [] for code in ATOM_JOURNALS}
    for p in sorted(papers, key=lambda p: p.pub_date, reverse=True):
        if p.repeat == "doi" or p.role == "rss":
            rss[p.journal[2]].append(rss_item(p, rng))
        elif p.repeat == "pmid" or p.role == "pubmed-rss":
            searches[p.idx % 3].append(pubmed_rss_item(p, rng))
        elif p.repeat == "title" or p.role in ("atom", "atom-doi"):
            atom[p.journal[2]].append(atom_entry(p, rng, with_doi=p.role == "atom-doi"))
    feeds = [(f"{code}.rss", journal_rss(code, items), "journal RSS 2.0") for code, items in
             rss.items()]  # fmt: skip
    feeds += [(f"pubmed-search-{i + 1}.xml", pubmed_rss(i + 1, items), "PubMed search RSS")
              for i, items in enumerate(searches)]  # fmt: skip
    feeds += [(f"{code}-online-first.atom", atom_feed(code, items), "journal Atom") for
              code, items in atom.items()]  # fmt: skip
    counts = {"journal RSS 2.0": sum(map(len, rss.values())),
              "PubMed search RSS": sum(map(len, searches)),
              "journal Atom": sum(map(len, atom.values()))}  # fmt: skip
    for name, text, kind in feeds:
        data = text.encode("utf-8")
        (directory / "feeds" / name).write_bytes(data)
        corpus.bytes += len(data)
        corpus.files[kind] = corpus.files.get(kind, 0) + 1
        corpus.records[kind] = counts[kind]
    return corpus


# ---------------------------------------------------------------------------- database


def add_protocols(engine: Engine) -> int:
    """The demo practice's ten protocols (IBS ... metabolic syndrome), then their topics."""
    assert len(CONDITIONS) == 10, "the demo has ten protocol conditions"
    with Session(engine) as session:
        for c in CONDITIONS:
            session.add(
                ClinicalProtocol(
                    title=c.protocol,
                    condition=c.name,
                    keywords=list(c.keywords),
                    mesh_terms=list(c.mesh),
                    summary=c.summary,
                    last_reviewed_on=date(2025, 3, 1),
                )
            )
        session.flush()
        topics = sync_protocol_topics(session=session)
        session.commit()
        return len(topics)


@dataclass
class Timings:
    parse: float = 0.0
    ingest: float = 0.0
    commit: float = 0.0
    store: float = 0.0  # store_records: lookups, dedup, merge, grade, INSERT/UPDATE flush
    score: float = 0.0  # score_articles: topic lookup, scoring, match INSERT flush
    sql: float = 0.0  # inside cursor.execute / executemany, all phases
    statements: int = 0

    @property
    def total(self) -> float:
        return self.parse + self.ingest + self.commit


class SqlClock:
    def __init__(self, engine: Engine) -> None:
        self.seconds, self.count = 0.0, 0
        event.listen(engine, "before_cursor_execute", self._before)
        event.listen(engine, "after_cursor_execute", self._after)

    def _before(self, conn: Any, *_args: Any) -> None:
        conn.info["bench_started"] = time.perf_counter()

    def _after(self, conn: Any, *_args: Any) -> None:
        self.seconds += time.perf_counter() - conn.info.pop("bench_started", time.perf_counter())
        self.count += 1


@contextmanager
def timed(module: types.ModuleType, name: str, add: Callable[[float], None]) -> Iterator[None]:
    """Time every call of `module.name` (a function ingest looks up at call time)."""
    original: Callable[..., Any] = getattr(module, name)

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            add(time.perf_counter() - started)

    setattr(module, name, wrapper)
    try:
        yield
    finally:
        setattr(module, name, original)


def run_once(
    engine: Engine, directory: Path, sql: SqlClock, profiler: cProfile.Profile | None = None
) -> tuple[Timings, IngestReport, FetchResult]:
    t = Timings()

    def add_store(s: float) -> None:
        t.store += s

    def add_score(s: float) -> None:
        t.score += s

    sql_before, count_before = sql.seconds, sql.count
    if profiler:
        profiler.enable()
    started = time.perf_counter()
    fetched = read_directory(directory)
    parsed = time.perf_counter()
    with (
        timed(ingest_module, "store_records", add_store),
        timed(ingest_module, "score_articles", add_score),
        Session(engine) as session,
    ):
        report = ingest(session=session, fetched=fetched, now=NOW)
        ingested = time.perf_counter()
        session.commit()
    committed = time.perf_counter()
    if profiler:
        profiler.disable()
    t.parse, t.ingest, t.commit = parsed - started, ingested - parsed, committed - ingested
    t.sql, t.statements = sql.seconds - sql_before, sql.count - count_before
    return t, report, fetched


# ------------------------------------------------------------------------------ checks


@dataclass
class Checks:
    stored: int = 0
    pmids_missing: int = 0
    dois_missing: int = 0
    retracted: int = 0
    grade_ok: int = 0
    grade_wrong: Counter[tuple[str, str, str]] = field(default_factory=Counter)
    unmatched_rows: int = 0
    matches: int = 0
    matched_articles: int = 0
    on_subject: int = 0  # matches to the topic of the paper's own condition
    off_subject: int = 0
    on_topic_papers: int = 0
    on_topic_found: int = 0  # on-topic papers matched to their own topic
    off_by_topic: Counter[str] = field(default_factory=Counter)
    off_only_mesh: int = 0  # ... matched neither on the condition nor on its first MeSH heading
    off_terms: Counter[str] = field(default_factory=Counter)  # matched terms of those


def check(engine: Engine, papers: list[Paper]) -> Checks:
    result = Checks()
    by_pmid = {p.pmid: p for p in papers if p.role in ("pubmed", "pubmed-rss")}
    by_doi = {p.doi.lower(): p for p in papers if p.doi and p.role != "atom"}
    by_key = {title_key(p.title): p for p in papers}
    with Session(engine) as session:
        articles = session.exec(select(Article)).all()
        topics = {t.id: t for t in session.exec(select(WatchTopic)).all()}
        matches = session.exec(select(ArticleMatch)).all()
    result.stored = len(articles)
    stored_pmids = {a.pmid for a in articles if a.pmid}
    stored_dois = {a.doi for a in articles if a.doi}
    result.pmids_missing = len(set(by_pmid) - stored_pmids)
    result.dois_missing = len({d for d in by_doi} - stored_dois)
    result.retracted = sum(a.is_retracted for a in articles)
    paper_of: dict[int, Paper] = {}
    for a in articles:
        paper = (
            (by_pmid.get(a.pmid) if a.pmid else None)
            or (by_doi.get(a.doi) if a.doi else None)
            or by_key.get(a.title_key)
        )
        if paper is None:
            result.unmatched_rows += 1
            continue
        assert a.id is not None
        paper_of[a.id] = paper
        expected = EXPECTED_GRADE[paper.design]
        if a.grade == expected:
            result.grade_ok += 1
        else:
            how = "PubMed record" if paper.role == "pubmed" else "feed item only"
            result.grade_wrong[(paper.design, str(a.grade), how)] += 1
    topic_of_protocol = {
        i: next(t.id for t in topics.values() if t.name == c.protocol)
        for i, c in enumerate(CONDITIONS)
    }
    result.matches = len(matches)
    result.matched_articles = len({m.article_id for m in matches})
    found: set[int] = set()
    for m in matches:
        paper = paper_of.get(m.article_id)
        if paper is None:
            continue
        own = paper.subject.topic
        if own is not None and topic_of_protocol[own] == m.topic_id and paper.design != "notice":
            result.on_subject += 1
            found.add(paper.idx)
        else:
            result.off_subject += 1
            topic = topics[m.topic_id]
            result.off_by_topic[topic.name.split(":")[0]] += 1
            result.off_terms.update(m.matched_terms)
            intervention_mesh = set(topic.mesh_terms[1:])
            if set(m.matched_terms) <= intervention_mesh | set(topic.terms[1:]):
                result.off_only_mesh += 1
    on_topic = [p for p in papers if p.subject.topic is not None and p.design != "notice"]
    result.on_topic_papers = len(on_topic)
    result.on_topic_found = sum(p.idx in found for p in on_topic)
    return result


# ------------------------------------------------------------------------------ output


def machine(engine: Engine) -> str:
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            version = "SQLite " + conn.exec_driver_sql("select sqlite_version()").scalar_one()
        else:
            version = str(conn.exec_driver_sql("show server_version").scalar_one())
            version = f"PostgreSQL {version}"
    return (
        f"{os.cpu_count()} CPUs (nproc {len(os.sched_getaffinity(0))}), "
        f"Python {platform.python_version()}, SQLAlchemy {sa.__version__}, {version}, "
        f"{platform.system()} {platform.machine()}"
    )


def print_corpus(corpus: Corpus, fetched: FetchResult) -> None:
    papers = corpus.papers
    roles = Counter(p.role for p in papers)
    repeats = Counter(p.repeat for p in papers if p.repeat)
    print("| corpus | files | records |\n| --- | ---: | ---: |")
    for kind, files in corpus.files.items():
        print(f"| {kind} | {files} | {corpus.records[kind]:,} |")
    print(
        f"| **total** ({corpus.bytes / 1e6:.1f} MB) | {sum(corpus.files.values())} | "
        f"{sum(corpus.records.values()):,} |\n"
    )
    designs = Counter(p.design for p in papers)
    print(
        f"{len(papers):,} distinct papers: {roles['pubmed']:,} in the saved PubMed searches "
        f"({sum(p.twice for p in papers)} of them in two searches), "
        f"{len(papers) - roles['pubmed']} feed-only; feeds repeat {sum(repeats.values())} "
        f"(by DOI {repeats['doi']}, by PMID {repeats['pmid']}, by title only "
        f"{repeats['title']}). Designs: "
        + ", ".join(f"{k} {v}" for k, v in designs.most_common())
        + f"; {sum(p.retracted for p in papers)} retracted. "
        f"{sum(p.subject.topic is not None for p in papers):,} papers are about one of the "
        f"ten protocol conditions. Parsed {len(fetched.articles):,} records, "
        f"{len(fetched.problems)} problems.\n"
    )


def print_tables(
    first: tuple[Timings, IngestReport], second: tuple[Timings, IngestReport], distinct: int
) -> None:
    (t1, r1), (t2, r2) = first, second

    def row(name: str, a: float, b: float, note: str = "") -> None:
        print(f"| {name} | {a:.2f} | {b:.2f} | {note} |")

    print("| phase (s) | first ingest | second, identical | notes |")
    print("| --- | ---: | ---: | --- |")
    row("read + parse files", t1.parse, t2.parse, "offline.read_directory")
    row("ingest", t1.ingest, t2.ingest, "store + dedup + grade + score + flush")
    row("- of which store_records", t1.store, t2.store, "lookups, merge, grade, INSERT")
    row("- of which score_articles", t1.score, t2.score, "10 topics, match INSERT")
    row("commit", t1.commit, t2.commit, "")
    row("**total**", t1.total, t2.total, "")
    row("SQL (cursor.execute), all phases", t1.sql, t2.sql,
        f"{t1.statements} / {t2.statements} statements")  # fmt: skip
    print(
        f"| articles/s (distinct, total time) | {distinct / t1.total:,.0f} | "
        f"{distinct / t2.total:,.0f} | |\n"
    )
    print("| result | first | second |\n| --- | ---: | ---: |")
    for name, a, b in (
        ("new articles", r1.new, r2.new),
        ("updated", r1.updated, r2.updated),
        ("unchanged", r1.unchanged, r2.unchanged),
        ("duplicates merged in the same batch", r1.duplicates, r2.duplicates),
        ("topic matches written", r1.matches, r2.matches),
        ("retracted among new/changed", r1.retractions, r2.retractions),
        ("source problems", len(r1.problems), len(r2.problems)),
    ):
        print(f"| {name} | {a:,} | {b:,} |")
    print()


def print_checks(c: Checks, papers: list[Paper], records: int) -> None:
    expected_retracted = sum(p.retracted for p in papers)
    pmids = sum(p.role in ("pubmed", "pubmed-rss") for p in papers)
    print("| check | found | expected |\n| --- | ---: | ---: |")
    print(f"| articles stored | {c.stored:,} | {len(papers):,} |")
    print(f"| duplicates merged (records - stored) | {records - c.stored:,} | "
          f"{records - len(papers):,} |")  # fmt: skip
    dois = sum(p.doi is not None and p.role != "atom" for p in papers)  # atom: title only
    print(f"| PMIDs stored | {pmids - c.pmids_missing:,} | {pmids:,} |")
    print(f"| DOIs stored | {dois - c.dois_missing:,} | {dois:,} |")
    print(f"| retracted flagged | {c.retracted} | {expected_retracted} |")
    print(f"| grade as designed | {c.grade_ok:,} | {c.stored - c.unmatched_rows:,} |")
    print(
        f"| articles with a topic match | {c.matched_articles:,} "
        f"({c.matched_articles / max(c.stored, 1):.0%}) | |"
    )
    print(
        f"| on-topic papers matched to their own topic | {c.on_topic_found:,} | "
        f"{c.on_topic_papers:,} |"
    )
    print(
        f"| matches to another subject's topic (or a notice) | {c.off_subject:,} of "
        f"{c.matches:,} | {c.off_only_mesh:,} of them matched on neither the condition "
        "nor its first MeSH heading |\n"
    )
    if c.grade_wrong:
        print("Grades that differ from the design the paper was written as:\n")
        print("| written as | graded | from | articles |\n| --- | --- | --- | ---: |")
        for (design, graded, how), n in c.grade_wrong.most_common():
            print(f"| {design} | {graded} | {how} | {n} |")
        print()
    if c.off_by_topic:
        print(
            "Off-subject matches by topic: "
            + ", ".join(f"{k} {v}" for k, v in c.off_by_topic.most_common())
            + ". Terms they matched on: "
            + ", ".join(f"{k} {v}" for k, v in c.off_terms.most_common(8))
            + ".\n"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=5000, help="distinct articles")
    parser.add_argument("--topics", type=int, default=10, choices=[10],
                        help="protocol topics (fixed: the demo's ten protocols)")  # fmt: skip
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--database-url",
        default=None,
        help="an empty database (default: SQLite file in the temp directory)",
    )
    parser.add_argument(
        "--keep-dir", action="store_true", help="keep the temp directory (corpus, SQLite file)"
    )
    parser.add_argument(
        "--profile",
        type=int,
        default=0,
        metavar="N",
        help="cProfile the first run and print its top N functions (slows that run)",
    )
    args = parser.parse_args(argv)
    if args.articles < 200:
        parser.error("--articles must be at least 200")

    tmp = Path(tempfile.mkdtemp(prefix="steve-lit-bench-"))
    try:
        sys.stderr.write(f"  writing corpus to {tmp / 'corpus'} ...\n")
        started = time.perf_counter()
        papers = make_papers(args.articles, args.seed)
        corpus = write_corpus(papers, tmp / "corpus", args.seed)
        generated = time.perf_counter() - started
        url = args.database_url or f"sqlite:///{tmp / 'bench.db'}"
        engine = make_engine(url)
        migrate(engine)
        with Session(engine) as session:
            if session.exec(select(func.count()).select_from(Article)).one():
                parser.error("the database already holds articles; give an empty one")
        n_topics = add_protocols(engine)
        sql = SqlClock(engine)
        profiler = cProfile.Profile() if args.profile else None
        sys.stderr.write("  first ingest ...\n")
        t1, r1, fetched = run_once(engine, tmp / "corpus", sql, profiler)
        sys.stderr.write("  second, identical ingest ...\n")
        t2, r2, _ = run_once(engine, tmp / "corpus", sql)
        checks = check(engine, papers)

        print(f"\n## Literature ingest benchmark ({engine.dialect.name})\n")
        print(f"Machine: {machine(engine)}\n")
        print(
            f"Corpus: {args.articles:,} distinct articles, seed {args.seed}, written in "
            f"{generated:.1f} s (not timed below); {n_topics} protocol topics.\n"
        )
        print_corpus(corpus, fetched)
        print_tables((t1, r1), (t2, r2), len(papers))
        print_checks(checks, papers, len(fetched.articles))
        verdict = "met" if t1.total < TARGET_SECONDS else "MISSED"
        print(
            f"Target: {args.articles:,} articles in under {TARGET_SECONDS:.0f} s: {verdict} "
            f"({t1.total:.2f} s{', profiled' if profiler else ''}). Second run: "
            f"{r2.new} new, {r2.updated} updated "
            f"({'idempotent' if r2.new == r2.updated == 0 else 'NOT idempotent'})."
        )
        if profiler:
            for key in ("tottime", "cumulative"):
                out = io.StringIO()
                pstats.Stats(profiler, stream=out).sort_stats(key).print_stats(args.profile)
                print(f"\n### cProfile, first run, by {key}\n\n```\n{out.getvalue().strip()}\n```")
        engine.dispose()
    finally:
        if args.keep_dir:
            sys.stderr.write(f"  kept {tmp}\n")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
