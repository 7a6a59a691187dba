"""The responses regulators require (docs/responses.md): each response type's required
elements are data (RequiredElement rows a manager keeps in the admin, seeded from
catalogue.py), and this module says, without the database, which of them a response about to
be sent lacks. The services refuse to send while the list is not empty.

An element is checked one of three ways:
- text: wording the sent text (subject and body) must contain, compared without regard to
  case or spacing. One requirement per line; a line may offer alternatives separated by
  "|" (the same words in each language the firm writes in), any one of which will do;
- enclosure: a document the firm keeps for the profile (the ombudsman's leaflet), attached
  by the service itself, so it is missing only when no copy was ever uploaded;
- fact: something recorded on the case (the outcome; the redress when the outcome upholds
  the complaint; an early resolution).
"""

from dataclasses import dataclass

from django.db import models

from complaints.workflow import Refused


class ResponseType(models.TextChoices):
    REPLY = "reply", "Reply"
    ACKNOWLEDGMENT = "acknowledgment", "Acknowledgment"
    HOLDING_RESPONSE = "holding_response", "Holding response"
    FINAL_RESPONSE = "final_response", "Final response"
    SUMMARY_RESOLUTION = "summary_resolution", "Summary resolution communication"
    DELAY_NOTICE = "delay_notice", "Delay notice"
    CFPB_COMPANY_RESPONSE = "cfpb_company_response", "CFPB company response"


# Types that answer the complaint: once one is sent, no response is owed until a reopening.
FINAL_TYPES = frozenset(
    {
        ResponseType.FINAL_RESPONSE,
        ResponseType.SUMMARY_RESOLUTION,
        # The CFPB's categories a company chooses all close the complaint ("In progress"
        # is not among those staff record).
        ResponseType.CFPB_COMPANY_RESPONSE,
    }
)

# A regulator's letter for an answer that will be late, in the order a profile's are looked
# for: ASIC's IDR delay notification, the FCA's holding response. Each needs reasons only the
# case's owner can give, so a missed clock under such a profile prompts a person to write it
# instead of sending the firm's automatic delay notice, which would lack them.
LATE_ANSWER_TYPES = (ResponseType.DELAY_NOTICE, ResponseType.HOLDING_RESPONSE)


class Check(models.TextChoices):
    TEXT = "text", "Wording in the text"
    ENCLOSURE = "enclosure", "A document sent with it"
    FACT = "fact", "A fact recorded on the case"


class Fact(models.TextChoices):
    OUTCOME = "outcome", "The outcome is recorded on the case"
    REDRESS = "redress", "The redress is recorded when the outcome upholds the complaint"
    RESOLVED_EARLY = "resolved_early", "The case was resolved early"


# What the person sending is told to do about a missing fact or enclosure.
FACT_HINTS = {
    Fact.OUTCOME: "record the outcome on the case first",
    Fact.REDRESS: "the outcome upholds the complaint: propose the redress on the case first",
    Fact.RESOLVED_EARLY: "this case was not resolved within its profile's early-resolution "
    "window, so it needs a final response instead",
}
ENCLOSURE_HINT = (
    "no copy is kept (never uploaded, or its file is missing from storage): a manager "
    "uploads it under Settings, Response enclosures"
)


@dataclass(frozen=True)
class CaseFacts:
    """What the fact checks read from the case, gathered by the caller."""

    outcome_recorded: bool = False
    # The recorded outcome upholds the complaint, fully or partly.
    upholds: bool = False
    # A live resolution (the redress offered) with its amount where money moves.
    redress_recorded: bool = False
    resolved_early: bool = False


@dataclass(frozen=True)
class Missing:
    code: str
    label: str
    source: str
    hint: str = ""
    kind: str = Check.TEXT

    def __str__(self):
        said = f"{self.label} ({self.source})" if self.source else self.label
        return f"{said}: {self.hint}" if self.hint else said


def requirements(patterns):
    """The lines of `patterns`, each as its alternatives, normalised."""
    lines = []
    for line in (patterns or "").splitlines():
        alternatives = [normalised(part) for part in line.split("|")]
        alternatives = [part for part in alternatives if part]
        if alternatives:
            lines.append(alternatives)
    return lines


def normalised(text):
    return " ".join((text or "").split()).casefold()


def text_has(text, patterns):
    """Whether `text` holds every requirement of `patterns` (one alternative of each)."""
    haystack = normalised(text)
    return all(
        any(alternative in haystack for alternative in line) for line in requirements(patterns)
    )


def fact_holds(fact, facts):
    if fact == Fact.OUTCOME:
        return facts.outcome_recorded
    if fact == Fact.REDRESS:
        return not facts.upholds or facts.redress_recorded
    if fact == Fact.RESOLVED_EARLY:
        return facts.resolved_early
    return False  # a fact this version does not know of is never taken as given


def missing_elements(elements, *, text, enclosures, facts):
    """The `elements` a response lacks, in their order: `text` is what is sent (subject and
    body), `enclosures` the codes of the documents kept for the profile, `facts` the case's."""
    missing = []
    for element in elements:
        if element.kind == Check.TEXT:
            held, hint = text_has(text, element.patterns), ""
        elif element.kind == Check.ENCLOSURE:
            held, hint = element.enclosure in enclosures, ENCLOSURE_HINT
        else:
            held, hint = fact_holds(element.fact, facts), FACT_HINTS.get(element.fact, "")
        if not held:
            missing.append(Missing(element.code, element.label, element.source, hint, element.kind))
    return missing


class ResponseIncomplete(Refused):
    """A regulated response lacks required elements: nothing is stored or sent. `missing`
    lists them (Missing), for the compose page and the API to show one by one."""

    def __init__(self, response_type, profile_name, missing):
        self.missing = list(missing)
        listed = "; ".join(str(item) for item in self.missing)
        super().__init__(
            f"This {ResponseType(response_type).label.lower()} cannot be sent under "
            f"{profile_name} until it has: {listed}."
        )
