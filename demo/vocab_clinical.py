"""Clinical vocabulary of the demo practice: conditions with their protocols, modalities,
medications and allergies. Invented but plausible; none of it is clinical advice."""

from __future__ import annotations

from dataclasses import dataclass

from db.models import Discipline

D = Discipline


@dataclass(frozen=True)
class Condition:
    name: str
    protocol: str
    keywords: tuple[str, ...]
    mesh: tuple[str, ...]
    summary: str
    modalities: tuple[Discipline, ...]  # in-house modalities that suit it, best first
    panels: tuple[str, ...]  # keys of vocab_labs.PANELS
    supplements: tuple[str, ...]  # keys of vocab_labs.SUPPLEMENTS
    medications: tuple[tuple[str, str, str], ...]  # (name, dose, frequency)
    network: tuple[Discipline, ...]  # where patients with it are referred
    goal: str
    female_only: bool = False


CONDITIONS: tuple[Condition, ...] = (
    Condition(
        "Irritable bowel syndrome",
        "IBS: integrative gut programme",
        ("IBS", "low FODMAP", "gut-directed hypnotherapy", "peppermint oil", "SIBO"),
        ("Irritable Bowel Syndrome", "Diet, FODMAP", "Probiotics", "Hypnosis"),
        "Stepwise care for IBS: rule out red flags and coeliac disease, structured low-FODMAP "
        "trial with reintroduction, peppermint oil and soluble fibre, gut-directed "
        "hypnotherapy or CBT, and acupuncture for pain and bloating.",
        (D.NUTRITIONAL_THERAPY, D.ACUPUNCTURE, D.HEALTH_COACHING),
        ("stool", "sibo", "food"),
        ("peppermint", "psyllium", "probiotic", "glutamine"),
        (
            ("Mebeverine", "135 mg", "three times daily before meals"),
            ("Amitriptyline", "10 mg", "at night"),
            ("Loperamide", "2 mg", "as needed"),
            ("Omeprazole", "20 mg", "once daily"),
        ),
        (D.GASTROENTEROLOGY, D.DIETETICS, D.PSYCHOTHERAPY),
        "Fewer flare days and a broad, tolerated diet",
    ),
    Condition(
        "Chronic fatigue syndrome",
        "ME/CFS: pacing and recovery programme",
        ("ME/CFS", "post-exertional malaise", "pacing", "CoQ10", "orthostatic intolerance"),
        ("Fatigue Syndrome, Chronic", "Post-Exertional Malaise", "Ubiquinone"),
        "Energy-envelope pacing with heart-rate guidance, sleep and orthostatic support, "
        "screening for iron, B12, vitamin D and thyroid, cautious nutrient support and "
        "graded return to activity only when stable.",
        (D.HEALTH_COACHING, D.NUTRITIONAL_THERAPY, D.NURSE, D.ACUPUNCTURE),
        ("micro", "oat", "thyroid", "fbc"),
        ("coq10", "magnesium", "vitd", "bcomplex", "ribose"),
        (("Sertraline", "50 mg", "once daily"), ("Amitriptyline", "10 mg", "at night")),
        (D.NEUROLOGY, D.PSYCHOTHERAPY, D.PHYSIOTHERAPY),
        "Steadier energy with fewer crashes; back to part-time work",
    ),
    Condition(
        "Fibromyalgia",
        "Fibromyalgia: multimodal pain programme",
        ("fibromyalgia", "central sensitisation", "tai chi", "low-dose naltrexone", "sleep"),
        ("Fibromyalgia", "Central Nervous System Sensitization", "Tai Ji", "Massage"),
        "Education on central sensitisation, gentle graded movement (tai chi, aquatic), "
        "sleep restoration, massage and acupuncture for pain, magnesium and vitamin D "
        "repletion, and review of pharmacological options with the patient.",
        (D.MASSAGE, D.ACUPUNCTURE, D.OSTEOPATHY, D.HEALTH_COACHING),
        ("micro", "oat"),
        ("magnesium", "vitd", "omega3", "curcumin"),
        (
            ("Pregabalin", "75 mg", "twice daily"),
            ("Duloxetine", "30 mg", "once daily"),
            ("Amitriptyline", "20 mg", "at night"),
        ),
        (D.RHEUMATOLOGY, D.PAIN_MEDICINE, D.PSYCHOTHERAPY, D.PHYSIOTHERAPY),
        "Pain below 4/10 on most days and unbroken sleep",
    ),
    Condition(
        "Migraine",
        "Migraine: prevention and trigger programme",
        ("migraine", "riboflavin", "magnesium", "acupuncture", "CGRP", "triggers"),
        ("Migraine Disorders", "Riboflavin", "Magnesium", "Acupuncture Therapy"),
        "Headache diary and trigger review, regular sleep and meals, magnesium, riboflavin "
        "and CoQ10 prophylaxis, a course of acupuncture, and referral for CGRP-targeted "
        "therapy when attacks stay frequent.",
        (D.ACUPUNCTURE, D.NUTRITIONAL_THERAPY, D.OSTEOPATHY, D.MASSAGE),
        ("micro", "dutch"),
        ("magnesium", "riboflavin", "coq10"),
        (
            ("Sumatriptan", "50 mg", "at onset, max twice daily"),
            ("Propranolol", "40 mg", "twice daily"),
            ("Topiramate", "25 mg", "twice daily"),
        ),
        (D.NEUROLOGY, D.PHYSIOTHERAPY),
        "Half as many migraine days a month",
    ),
    Condition(
        "Menopause symptoms",
        "Menopause: symptom and long-term health programme",
        ("menopause", "perimenopause", "HRT", "hot flushes", "bone health", "CBT"),
        ("Menopause", "Hot Flashes", "Hormone Replacement Therapy", "Osteoporosis"),
        "Shared decision-making on body-identical HRT, CBT for flushes and sleep, strength "
        "training for bone and muscle, cardiometabolic screening and acupuncture for those "
        "who cannot or will not take hormones.",
        (D.ACUPUNCTURE, D.NUTRITIONAL_THERAPY, D.HEALTH_COACHING),
        ("dutch", "metabolic"),
        ("vitd", "magnesium", "omega3", "sage"),
        (
            ("Estradiol gel", "2 pumps", "once daily"),
            ("Micronised progesterone", "100 mg", "at night"),
            ("Vaginal estradiol", "10 mcg", "twice weekly"),
        ),
        (D.GYNAECOLOGY, D.PSYCHOTHERAPY),
        "Sleeping through most nights; flushes no longer disruptive",
        female_only=True,
    ),
    Condition(
        "Chronic low back pain",
        "Chronic pain: active recovery programme",
        ("chronic pain", "low back pain", "pain neuroscience", "graded activity", "osteopathy"),
        ("Chronic Pain", "Low Back Pain", "Manipulation, Osteopathic", "Exercise Therapy"),
        "Pain neuroscience education, graded activity with a movement plan, manual therapy "
        "as an adjunct, acupuncture, sleep and mood care, and tapering of opioids where "
        "they are not helping.",
        (D.OSTEOPATHY, D.ACUPUNCTURE, D.MASSAGE, D.HEALTH_COACHING),
        ("micro", "metabolic"),
        ("omega3", "curcumin", "vitd", "magnesium"),
        (
            ("Naproxen", "500 mg", "twice daily with food"),
            ("Co-codamol", "30/500 mg", "as needed"),
            ("Gabapentin", "300 mg", "three times daily"),
        ),
        (D.PHYSIOTHERAPY, D.PAIN_MEDICINE, D.RHEUMATOLOGY),
        "Walking 30 minutes daily and back to gardening",
    ),
    Condition(
        "Insomnia",
        "Insomnia: CBT-I based sleep programme",
        ("insomnia", "CBT-I", "sleep restriction", "melatonin", "circadian"),
        ("Sleep Initiation and Maintenance Disorders", "Cognitive Behavioral Therapy", "Melatonin"),
        "CBT-I as first line (sleep restriction, stimulus control), circadian anchoring "
        "with morning light, review of caffeine and alcohol, magnesium glycinate, and a "
        "short melatonin course for delayed sleep phase.",
        (D.HEALTH_COACHING, D.ACUPUNCTURE, D.MASSAGE),
        ("dutch",),
        ("magnesium", "glycine", "theanine", "melatonin"),
        (("Zopiclone", "3.75 mg", "at night as needed"), ("Mirtazapine", "15 mg", "at night")),
        (D.PSYCHOTHERAPY, D.NEUROLOGY),
        "Asleep within 30 minutes and 7 hours' sleep",
    ),
    Condition(
        "Generalised anxiety",
        "Anxiety: mind-body regulation programme",
        ("anxiety", "GAD", "breathwork", "mindfulness", "L-theanine", "vagal tone"),
        ("Anxiety Disorders", "Mindfulness", "Breathing Exercises", "Mind-Body Therapies"),
        "Psychological therapy as the core, daily breathwork and mindfulness practice, "
        "exercise, caffeine reduction, acupuncture and massage for arousal, and careful "
        "review of supplements against current medication.",
        (D.HEALTH_COACHING, D.ACUPUNCTURE, D.MASSAGE),
        ("oat", "micro"),
        ("magnesium", "theanine", "ashwagandha", "omega3"),
        (("Sertraline", "100 mg", "once daily"), ("Propranolol", "10 mg", "as needed")),
        (D.PSYCHOTHERAPY, D.MIND_BODY),
        "Fewer panic episodes; confident on public transport",
    ),
    Condition(
        "Hypothyroidism",
        "Hypothyroidism: thyroid optimisation programme",
        ("hypothyroidism", "Hashimoto's", "levothyroxine", "selenium", "TPO antibodies"),
        ("Hypothyroidism", "Hashimoto Disease", "Thyroxine", "Selenium"),
        "Levothyroxine dosing to symptoms and TSH, check absorption and timing, iron, "
        "B12, vitamin D and selenium status, gluten review when coeliac antibodies are "
        "positive, and fatigue and weight support.",
        (D.NUTRITIONAL_THERAPY, D.HEALTH_COACHING, D.NURSE),
        ("thyroid", "micro", "fbc"),
        ("selenium", "vitd", "iron", "bcomplex"),
        (
            ("Levothyroxine", "75 mcg", "once daily before breakfast"),
            ("Levothyroxine", "100 mcg", "once daily before breakfast"),
        ),
        (D.ENDOCRINOLOGY, D.DIETETICS),
        "TSH in range and energy back to usual",
    ),
    Condition(
        "Metabolic syndrome",
        "Metabolic health: lifestyle-first programme",
        ("metabolic syndrome", "insulin resistance", "time-restricted eating", "berberine"),
        ("Metabolic Syndrome", "Insulin Resistance", "Diet, Mediterranean", "Exercise"),
        "Mediterranean-style eating with a protein and fibre focus, resistance training, "
        "sleep and stress care, blood pressure and lipid treatment to targets, and "
        "coaching for sustained change.",
        (D.NUTRITIONAL_THERAPY, D.HEALTH_COACHING, D.NURSE),
        ("metabolic", "micro"),
        ("berberine", "omega3", "magnesium", "inositol", "chromium"),
        (
            ("Metformin", "500 mg", "twice daily with meals"),
            ("Atorvastatin", "20 mg", "at night"),
            ("Ramipril", "5 mg", "once daily"),
        ),
        (D.ENDOCRINOLOGY, D.DIETETICS),
        "Waist down 5 cm and HbA1c below 42",
    ),
)

# Past conditions that show up as resolved history.
RESOLVED_CONDITIONS = (
    "Iron deficiency anaemia",
    "Plantar fasciitis",
    "Postnatal depression",
    "Frozen shoulder",
    "Helicobacter pylori infection",
    "Vitamin D deficiency",
    "Gastroenteritis",
)


@dataclass(frozen=True)
class Modality:
    service: str
    minutes: int
    first_service: str
    first_minutes: int
    cadences: tuple[str, ...]
    goals: tuple[str, ...]


# Every duration is 5 past a quarter hour so that, with a 10-minute gap, the next part of a
# visit block starts on the 15-minute grid the scheduler offers.
MODALITIES: dict[Discipline, Modality] = {
    D.PHYSICIAN: Modality(
        "follow-up consultation",
        35,
        "new patient consultation",
        80,
        ("monthly", "every 6 weeks"),
        (
            "Coordinate the programme and review results",
            "Medication and supplement review",
            "Review progress against the programme goal",
        ),
    ),
    D.ACUPUNCTURE: Modality(
        "acupuncture",
        50,
        "acupuncture (initial)",
        50,
        ("weekly", "every 2 weeks"),
        (
            "Reduce pain intensity",
            "Improve sleep quality",
            "Reduce symptom flares",
            "Calm stress response",
        ),
    ),
    D.OSTEOPATHY: Modality(
        "osteopathic treatment",
        50,
        "osteopathic assessment",
        50,
        ("every 2 weeks", "every 3 weeks"),
        ("Restore spinal mobility", "Reduce muscular tension", "Improve posture and load"),
    ),
    D.HEALTH_COACHING: Modality(
        "health coaching session",
        50,
        "health coaching (initial)",
        50,
        ("every 2 weeks", "monthly"),
        (
            "Build a sustainable pacing plan",
            "Establish daily movement habit",
            "Sleep routine and wind-down",
            "Stress management practice",
        ),
    ),
    D.NUTRITIONAL_THERAPY: Modality(
        "nutritional therapy follow-up",
        50,
        "nutritional therapy consultation",
        80,
        ("monthly", "every 6 weeks"),
        (
            "Structured elimination and reintroduction",
            "Stabilise blood sugar",
            "Replete low nutrients",
            "Anti-inflammatory eating pattern",
        ),
    ),
    D.MASSAGE: Modality(
        "therapeutic massage",
        50,
        "therapeutic massage",
        50,
        ("every 2 weeks", "monthly"),
        ("Reduce muscle pain and stiffness", "Support relaxation and sleep"),
    ),
    D.NURSE: Modality(
        "B12 injection",
        20,
        "IV nutrient infusion",
        80,
        ("weekly", "monthly"),
        ("B12 loading course", "IV nutrient support", "Phlebotomy and monitoring"),
    ),
}

CADENCE_DAYS = {
    "weekly": 7,
    "every 2 weeks": 14,
    "every 3 weeks": 21,
    "monthly": 28,
    "every 6 weeks": 42,
}

ALLERGIES = (
    ("Penicillin", "rash", "moderate"),
    ("Sulfonamides", "hives", "moderate"),
    ("Latex", "contact dermatitis", "mild"),
    ("Shellfish", "anaphylaxis", "severe"),
    ("Ibuprofen", "wheeze", "moderate"),
    ("Codeine", "nausea and vomiting", "mild"),
    ("Tree nuts", "lip swelling", "severe"),
    ("Sticking plasters", "skin irritation", "mild"),
    ("Iodine contrast", "urticaria", "moderate"),
    ("Bee stings", "anaphylaxis", "severe"),
)

GENERAL_MEDICATIONS = (
    ("Combined oral contraceptive", "1 tablet", "once daily"),
    ("Cetirizine", "10 mg", "once daily"),
    ("Salbutamol inhaler", "100 mcg", "as needed"),
    ("Lansoprazole", "15 mg", "once daily"),
    ("Amlodipine", "5 mg", "once daily"),
    ("Vitamin D3 (prescribed)", "800 IU", "once daily"),
)

PRESCRIBERS = ("GP", "GP", "GP", "Hospital consultant", "Practice physician")
