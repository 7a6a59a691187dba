"""The outcome of a complaint, in the terms of the regulator its profile answers to, as data
(docs/returns.md). Pure: no database. The outcome says how the complaint ended for the
customer; the resolution's type says what was done.

Sources:
- FCA: DISP 1.10 and DISP 1 Annex 1R (the complaints return counts complaints upheld, which
  includes partly upheld, against those closed).
- ASIC: Internal dispute resolution data dictionary (pilot version, July 2021) with RG 271:
  the "complaint outcome" element; the codes below are to be checked against the dictionary
  in force before a submission (docs/returns.md says how to change them).
- CFPB: the "Company response to consumer" column of the public Consumer Complaint Database
  (../shared/data/cfpb/), the values a company chooses plus the older ones the data carries.
"""

from django.db import models


class Scheme(models.TextChoices):
    """Whose terms a profile's outcomes and returns follow."""

    FCA = "fca", "FCA (DISP 1.10 complaints return)"
    ASIC = "asic", "ASIC (IDR data reporting)"
    CFPB = "cfpb", "CFPB (consumer complaint database)"


# What staff choose from, per scheme, in the order they are offered.
OUTCOMES = {
    Scheme.FCA: (
        ("upheld", "Upheld"),
        ("partly_upheld", "Partly upheld"),
        ("not_upheld", "Not upheld"),
    ),
    Scheme.ASIC: (
        ("asic_apology", "Apology or explanation"),
        ("asic_monetary", "Monetary remedy (refund, compensation, fee or debt waived)"),
        ("asic_non_monetary", "Non-monetary remedy (action taken, decision changed)"),
        ("asic_no_remedy", "No remedy: complaint not substantiated"),
        ("asic_withdrawn", "Complaint withdrawn or discontinued"),
    ),
    Scheme.CFPB: (
        ("closed_with_explanation", "Closed with explanation"),
        ("closed_with_monetary_relief", "Closed with monetary relief"),
        ("closed_with_non_monetary_relief", "Closed with non-monetary relief"),
    ),
}
# The CFPB's other values, which its data carries and our import reads, but no company picks
# today: the older categories, and the two that say the case is still open.
CFPB_RECORDED_ONLY = (
    ("closed_with_relief", "Closed with relief"),
    ("closed_without_relief", "Closed without relief"),
    ("closed", "Closed"),
    ("in_progress", "In progress"),
    ("untimely_response", "Untimely response"),
)
# The FCA return's "upheld" counts partly upheld complaints too.
UPHELD = frozenset({"upheld", "partly_upheld"})

OUTCOME_CHOICES = [
    ("", "Not recorded"),
    *(choice for choices in OUTCOMES.values() for choice in choices),
    *CFPB_RECORDED_ONLY,
]
OUTCOME_LABELS = dict(OUTCOME_CHOICES)


def outcomes_for(scheme):
    """The outcomes staff may record under this scheme."""
    return OUTCOMES[Scheme(scheme)]


def is_outcome_of(outcome, scheme):
    return outcome in {code for code, _ in outcomes_for(scheme)}


def cfpb_outcome(response_text):
    """The outcome code for a value of the CFPB's "Company response to consumer" column, or
    None for a value it does not know."""
    wanted = response_text.strip().lower()
    for code, label in (*OUTCOMES[Scheme.CFPB], *CFPB_RECORDED_ONLY):
        if label.lower() == wanted:
            return code
    return None


# The catalogue's profiles (complaints/clocks/catalogue.py) whose returns are not the FCA's.
PROFILE_SCHEMES = {"asic": Scheme.ASIC, "asic-super": Scheme.ASIC, "cfpb": Scheme.CFPB}


def profile_schemes_seed(apps):
    """Give the catalogue's profiles their scheme, through `apps` (a migration's or the live
    registry), after the catalogue is written."""
    RegulatoryProfile = apps.get_model("complaints", "RegulatoryProfile")
    for code, scheme in PROFILE_SCHEMES.items():
        RegulatoryProfile.objects.filter(code=code).update(returns_scheme=scheme)
