"""Specialist lab panels (with analytes, units and reference ranges) and supplement products.

Ranges are typical published adult ranges, good enough for a demo; they are not a
laboratory's own and must not be used clinically."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Analyte:
    name: str
    unit: str | None
    low: float | None = None
    high: float | None = None
    decimals: int = 1
    # Qualitative analytes carry text instead of a number.
    normal_text: str | None = None
    abnormal_text: str | None = None
    # A value past this is flagged critical (rare, so briefings have something urgent).
    critical_low: float | None = None
    critical_high: float | None = None


@dataclass(frozen=True)
class Panel:
    name: str
    labs: tuple[str, ...]
    turnaround: tuple[int, int]  # days from order to result
    analytes: tuple[Analyte, ...]


A = Analyte
PANELS: dict[str, Panel] = {
    "stool": Panel(
        "Comprehensive stool analysis with parasitology",
        ("Genova Diagnostics", "Doctor's Data"),
        (14, 21),
        (
            A("Calprotectin", "µg/g", None, 50, 0, critical_high=250),
            A("Pancreatic elastase-1", "µg/g", 200, None, 0),
            A("Secretory IgA", "mg/dL", 51, 204, 0),
            A("Beta-glucuronidase", "U/mL", 368, 6266, 0),
            A("Total short-chain fatty acids", "µmol/g", 23.3, None, 1),
            A("Blastocystis hominis", None, normal_text="Not detected", abnormal_text="Detected"),
            A("Candida spp.", None, normal_text="No growth", abnormal_text="Growth 2+"),
            A("Occult blood", None, normal_text="Negative", abnormal_text="Positive"),
        ),
    ),
    "oat": Panel(
        "Organic acids test",
        ("Mosaic Diagnostics", "Genova Diagnostics"),
        (14, 21),
        (
            A("Arabinose", "mmol/mol creatinine", None, 29, 1),
            A("Citric acid", "mmol/mol creatinine", 40, 520, 0),
            A("Homovanillic acid (HVA)", "mmol/mol creatinine", 0.8, 3.6, 2),
            A("Vanillylmandelic acid (VMA)", "mmol/mol creatinine", 0.46, 3.7, 2),
            A("Methylmalonic acid", "mmol/mol creatinine", None, 2.3, 2),
            A("Pyroglutamic acid", "mmol/mol creatinine", 10, 33, 1),
            A("4-Cresol", "mmol/mol creatinine", None, 75, 1),
            A("Quinolinic acid", "mmol/mol creatinine", 0.85, 3.9, 2),
        ),
    ),
    "dutch": Panel(
        "DUTCH Complete (dried urine hormones)",
        ("Precision Analytical",),
        (10, 16),
        (
            A("Estradiol (E2)", "ng/mg", 0.2, 4.5, 2),
            A("b-Pregnanediol", "ng/mg", 75, 2000, 0),
            A("Testosterone", "ng/mg", 2.3, 14, 1),
            A("DHEA-S", "ng/mg", 20, 750, 0),
            A("Total free cortisol", "ng/mg", 60, 175, 0),
            A("Cortisol awakening response", "%", 50, 160, 0),
            A("6-OH-melatonin-sulfate", "ng/mg", 10, 85, 1),
        ),
    ),
    "micro": Panel(
        "Micronutrient panel",
        ("Invivo Clinical", "Genova Diagnostics"),
        (10, 14),
        (
            A("Vitamin D (25-OH)", "nmol/L", 75, 200, 0, critical_low=15),
            A("Active B12 (holotranscobalamin)", "pmol/L", 37.5, 188, 1),
            A("Red cell folate", "nmol/L", 340, 1020, 0),
            A("Ferritin", "µg/L", 30, 300, 0, critical_low=5),
            A("Red cell magnesium", "mmol/L", 1.65, 2.65, 2),
            A("Zinc", "µmol/L", 11, 18, 1),
            A("Omega-3 index", "%", 8, 12, 1),
            A("Coenzyme Q10", "µmol/L", 0.5, 1.7, 2),
        ),
    ),
    "thyroid": Panel(
        "Advanced thyroid panel",
        ("Medichecks", "The Doctors Laboratory"),
        (2, 5),
        (
            A("TSH", "mIU/L", 0.27, 4.2, 2, critical_high=20),
            A("Free T4", "pmol/L", 12, 22, 1),
            A("Free T3", "pmol/L", 3.1, 6.8, 1),
            A("Reverse T3", "ng/dL", 10, 24, 0),
            A("TPO antibodies", "IU/mL", None, 34, 0),
            A("Thyroglobulin antibodies", "IU/mL", None, 115, 0),
        ),
    ),
    "food": Panel(
        "Food sensitivity IgG panel",
        ("Cambridge Nutritional Sciences",),
        (10, 14),
        (
            A("Cow's milk IgG", "U/mL", None, 24, 0),
            A("Egg white IgG", "U/mL", None, 24, 0),
            A("Wheat IgG", "U/mL", None, 24, 0),
            A("Gliadin IgG", "U/mL", None, 24, 0),
            A("Baker's yeast IgG", "U/mL", None, 24, 0),
            A("Soya IgG", "U/mL", None, 24, 0),
            A("Almond IgG", "U/mL", None, 24, 0),
        ),
    ),
    "sibo": Panel(
        "SIBO lactulose breath test",
        ("Regenerus Labs", "Genova Diagnostics"),
        (7, 10),
        (
            A("Hydrogen rise within 90 min", "ppm", None, 20, 0),
            A("Methane maximum", "ppm", None, 10, 0),
            A("Baseline hydrogen", "ppm", None, 16, 0),
        ),
    ),
    "metabolic": Panel(
        "Cardiometabolic panel",
        ("The Doctors Laboratory", "Medichecks"),
        (2, 4),
        (
            A("HbA1c", "mmol/mol", 20, 41, 0, critical_high=86),
            A("Fasting glucose", "mmol/L", 3.9, 5.5, 1),
            A("Fasting insulin", "mIU/L", 2.6, 24.9, 1),
            A("Triglycerides", "mmol/L", None, 1.7, 2),
            A("HDL cholesterol", "mmol/L", 1.0, None, 2),
            A("LDL cholesterol", "mmol/L", None, 3.0, 2),
            A("hs-CRP", "mg/L", None, 3.0, 2),
        ),
    ),
    "fbc": Panel(
        "Full blood count and iron studies",
        ("The Doctors Laboratory",),
        (1, 3),
        (
            A("Haemoglobin", "g/L", 120, 165, 0, critical_low=70),
            A("White cell count", "10^9/L", 4.0, 11.0, 1),
            A("Platelets", "10^9/L", 150, 400, 0),
            A("MCV", "fL", 80, 100, 0),
            A("Ferritin", "µg/L", 30, 300, 0, critical_low=5),
            A("Transferrin saturation", "%", 20, 50, 0),
        ),
    ),
}


@dataclass(frozen=True)
class Supplement:
    product: str
    dose: str
    frequency: str
    per_day: int  # units taken a day, to turn stock into a reorder date
    pack: int  # units in a pack


S = Supplement
SUPPLEMENTS: dict[str, Supplement] = {
    "magnesium": S(
        "Magnesium glycinate 120 mg (Pure Encapsulations)", "240 mg", "twice daily", 2, 180
    ),
    "vitd": S("Vitamin D3 + K2 drops (BioCare)", "2000 IU", "once daily with food", 1, 60),
    "omega3": S(
        "Omega-3 EPA/DHA 1 g (Nordic Naturals)", "2 capsules", "once daily with food", 2, 120
    ),
    "coq10": S("Ubiquinol CoQ10 100 mg (Kaneka)", "200 mg", "once daily with breakfast", 2, 60),
    "bcomplex": S("Methylated B complex (Thorne Basic B)", "1 capsule", "once daily", 1, 60),
    "ribose": S("D-ribose powder 5 g scoop", "5 g", "twice daily", 2, 50),
    "riboflavin": S("Riboflavin (vitamin B2) 400 mg", "400 mg", "once daily", 1, 60),
    "peppermint": S(
        "Enteric-coated peppermint oil 0.2 ml (Colpermin)",
        "1 capsule",
        "three times daily before meals",
        3,
        100,
    ),
    "psyllium": S("Psyllium husk powder", "1 teaspoon", "once daily in water", 1, 90),
    "probiotic": S(
        "Multi-strain probiotic 25 bn (Bio-Kult Advanced)", "1 capsule", "once daily", 1, 60
    ),
    "glutamine": S("L-glutamine powder", "5 g", "twice daily", 2, 100),
    "curcumin": S("Curcumin phytosome (Meriva) 500 mg", "1 capsule", "twice daily", 2, 60),
    "sage": S("Sage leaf extract 300 mg (A.Vogel Menoforce)", "1 tablet", "once daily", 1, 30),
    "glycine": S("Glycine powder", "3 g", "at bedtime", 1, 100),
    "theanine": S("L-theanine 200 mg (Cytoplan)", "1 capsule", "twice daily", 2, 60),
    "melatonin": S("Melatonin 1 mg (prescribed)", "1 mg", "1 hour before bed", 1, 30),
    "ashwagandha": S("Ashwagandha KSM-66 300 mg", "600 mg", "once daily", 2, 60),
    "selenium": S("Selenium (L-selenomethionine) 100 mcg", "100 mcg", "once daily", 1, 90),
    "iron": S("Iron bisglycinate 20 mg (Thorne)", "20 mg", "alternate days", 1, 60),
    "berberine": S("Berberine HCl 500 mg", "500 mg", "three times daily with meals", 3, 90),
    "inositol": S("Myo-inositol powder", "2 g", "twice daily", 2, 120),
    "chromium": S("Chromium picolinate 200 mcg", "200 mcg", "once daily", 1, 90),
}

SUPPLIERS = (
    "Practice dispensary",
    "Practice dispensary",
    "Natural Dispensary",
    "Nutri Advanced",
    "BioCare",
    "Amrita Nutrition",
    "Cytoplan",
    "Fullscript",
)
