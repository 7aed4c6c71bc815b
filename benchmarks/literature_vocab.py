"""Vocabulary of the literature benchmark corpus: interventions, subjects, journals, names."""

from __future__ import annotations

from dataclasses import dataclass

from db.models import EvidenceGrade

G = EvidenceGrade

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
