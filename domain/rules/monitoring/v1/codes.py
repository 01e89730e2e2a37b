"""The vocabulary the monitoring tables are written in: drug families (RxNorm), the
LOINC codes and vital signs that meet a need, the roles a row is for and the phases
several rows share."""

from __future__ import annotations

from domain.rules.monitoring.rows import Drugs, Need, Phase, words
from domain.vocabulary import Role

LITHIUM = Drugs("lithium", frozenset({"6448", "42351"}), frozenset({"lithium"}))
VALPROATE = Drugs(
    "valproate", frozenset({"11118", "266856"}), frozenset({"valproate", "valproic", "divalproex"})
)
SECOND_GENERATION_ANTIPSYCHOTICS = Drugs(
    "second-generation antipsychotic",
    frozenset({"89013", "61381", "35636", "51272", "1040028", "2626"}),
    words(
        "aripiprazole olanzapine risperidone quetiapine lurasidone clozapine paliperidone "
        "ziprasidone asenapine brexpiprazole cariprazine iloperidone lumateperone"
    ),
)
CLOZAPINE = Drugs("clozapine", frozenset({"2626"}), frozenset({"clozapine"}))
STIMULANTS = Drugs(
    "stimulant",
    frozenset({"6901", "725"}),
    words(
        "methylphenidate dexmethylphenidate amphetamine dextroamphetamine lisdexamfetamine "
        "methamphetamine"
    ),
)
ATOMOXETINE = Drugs("atomoxetine", frozenset({"38400"}), frozenset({"atomoxetine"}))
SSRIS_AND_SNRIS = Drugs(
    "SSRI or SNRI",
    frozenset({"36437", "321988", "4493", "39786", "72625"}),
    words(
        "sertraline escitalopram citalopram fluoxetine paroxetine fluvoxamine venlafaxine "
        "desvenlafaxine duloxetine levomilnacipran"
    ),
)
BUPRENORPHINE = Drugs("buprenorphine", frozenset({"1819"}), frozenset({"buprenorphine"}))
NALTREXONE = Drugs("naltrexone", frozenset({"7243"}), frozenset({"naltrexone"}))
LAMOTRIGINE = Drugs("lamotrigine", frozenset({"28439"}), frozenset({"lamotrigine"}))

# RxNorm codes monitoring.md took from public repositories only ("check in RxNav").
UNVERIFIED_RXNORM = frozenset({"51272", "1040028", "725", "6448", "42351", "1819"})

# LOINC codes that meet each kind of lab (an analyte, or a panel that reports it).
# Lithium in serum or plasma, and its trough code (rule-audit.md: both verified).
LITHIUM_LEVEL = frozenset({"14334-7", "74806-1"})
# Valproate [Mass/volume] in Serum or Plasma: from public lab-to-LOINC mappings, not yet
# verified in LOINC itself (its check digit is valid).
VALPROATE_LEVEL = frozenset({"4086-5"})
RENAL = frozenset({"98979-8", "62238-1", "33914-3", "2160-0", "14682-9", "51990-0", "24323-8"})
THYROID = frozenset({"3016-3"})
CALCIUM = frozenset({"17861-6", "2000-8", "51990-0", "24323-8"})
BLOOD_COUNT = frozenset({"58410-2", "57021-8", "6690-2", "718-7", "777-3"})
PLATELETS = frozenset({"58410-2", "57021-8", "777-3"})
LIVER = frozenset({"1742-6", "1920-8", "24325-3", "24323-8"})
CLOTTING = frozenset({"5902-2", "6301-6", "34714-6", "14979-9", "3173-2"})
PREGNANCY_TEST = frozenset({"2106-3", "2118-8", "19080-1", "21198-7"})
FASTING_GLUCOSE = frozenset({"1558-6", "14771-0", "2345-7", "4548-4"})
LIPIDS = frozenset(
    {"2093-3", "2571-8", "2085-9", "13457-7", "2089-1", "18262-6", "57698-3", "24331-1"}
)
NEUTROPHILS = frozenset({"751-8", "26499-4", "753-4", "57021-8"})
# The neutrophil counts themselves (not the panel that reports one): what an ANC band reads.
NEUTROPHIL_COUNT = frozenset({"751-8", "26499-4", "753-4"})
URINE_DRUG_TEST = frozenset({"19295-5", "3414-0", "93494-3", "58359-1"})

WEIGHT = (("weight_kg", "bmi"),)
BLOOD_PRESSURE = (("systolic_mmhg",),)
BLOOD_PRESSURE_AND_PULSE = (("systolic_mmhg",), ("heart_rate_bpm",))
WAIST = (("waist_cm",),)

PRESCRIBER = (Role.PRESCRIBER,)
PRESCRIBER_AND_THERAPIST = (Role.PRESCRIBER, Role.THERAPIST)

SIX_MONTHLY = Phase(182, every=182, early=14, late=14, label="every 6 months")
AT_SIX_MONTHS = Phase(182, early=14, late=14, label="at 6 months")
YEARLY = Phase(365, every=365, early=30, late=30, label="yearly")
WEEK_12 = Phase(84, early=7, late=14, label="week 12")


def _lab(title: str, codes: frozenset[str]) -> Need:
    return Need("lab", title, loinc=codes)


def _vitals(title: str, groups: tuple[tuple[str, ...], ...]) -> Need:
    return Need("vitals", title, vitals=groups)
