"""The seven stages and the transition table: pure Python, no ORM.

Services ask this module whether a move is allowed and what is missing; templates ask it
only to choose which buttons to show. Nothing here touches the database.
"""

from dataclasses import dataclass
from enum import StrEnum


class Stage(StrEnum):
    RECEIVED = "received"
    ACKNOWLEDGED = "acknowledged"
    INVESTIGATING = "investigating"
    RESOLVED = "resolved"
    FOLLOW_UP = "follow_up"
    DOCUMENTED = "documented"
    REVIEWED = "reviewed"
    # The exits: the case ends without a resolution, each for its own recorded reason.
    WITHDRAWN = "withdrawn"
    DUPLICATE = "duplicate"
    NOT_A_COMPLAINT = "not_a_complaint"

    @property
    def label(self):
        return STAGE_LABELS[self]


STAGE_LABELS = {
    Stage.RECEIVED: "Received",
    Stage.ACKNOWLEDGED: "Acknowledged",
    Stage.INVESTIGATING: "Investigating",
    Stage.RESOLVED: "Resolved",
    Stage.FOLLOW_UP: "Follow-up",
    Stage.DOCUMENTED: "Documented",
    Stage.REVIEWED: "Reviewed",
    Stage.WITHDRAWN: "Withdrawn",
    Stage.DUPLICATE: "Duplicate",
    Stage.NOT_A_COMPLAINT: "Not a complaint",
}
STAGE_CHOICES = [(stage.value, stage.label) for stage in Stage]
# The procedure's path, in order: the case page's stepper, and the step that comes next.
PROCEDURE = (
    Stage.RECEIVED,
    Stage.ACKNOWLEDGED,
    Stage.INVESTIGATING,
    Stage.RESOLVED,
    Stage.FOLLOW_UP,
    Stage.DOCUMENTED,
    Stage.REVIEWED,
)
# Stages in which the complaint still needs work from us; clocks and queues look only here.
OPEN_STAGES = frozenset(
    {Stage.RECEIVED, Stage.ACKNOWLEDGED, Stage.INVESTIGATING, Stage.RESOLVED, Stage.FOLLOW_UP}
)
# In a fixed order, so migrations and SQL built from it never change between runs.
OPEN_STAGE_VALUES = tuple(stage.value for stage in Stage if stage in OPEN_STAGES)
# A case that leaves the procedure before its resolution: final, every clock stopped.
EXIT_STAGES = frozenset({Stage.WITHDRAWN, Stage.DUPLICATE, Stage.NOT_A_COMPLAINT})
EXIT_STAGE_VALUES = tuple(stage.value for stage in Stage if stage in EXIT_STAGES)
# Closed: signed off or exited; such a complaint has closed_at.
CLOSED_STAGE_VALUES = (Stage.REVIEWED.value, *EXIT_STAGE_VALUES)
# Before a resolution is proposed the case may still turn out to be another's duplicate or
# no complaint at all; after it, the customer has our answer and only they can withdraw.
BEFORE_RESOLUTION = (Stage.RECEIVED, Stage.ACKNOWLEDGED, Stage.INVESTIGATING)

CSR, RESOLVER, MANAGER, CUSTOMER, SYSTEM = "csr", "resolver", "manager", "customer", "system"
STAFF = frozenset({CSR, RESOLVER, MANAGER})


@dataclass(frozen=True)
class Transition:
    source: Stage
    target: Stage
    roles: frozenset
    verb: str
    # The move undoes work the customer was told of, so whoever makes it says why.
    needs_reason: bool = False


TRANSITIONS = (
    Transition(Stage.RECEIVED, Stage.ACKNOWLEDGED, STAFF | {SYSTEM}, "Acknowledge"),
    Transition(Stage.ACKNOWLEDGED, Stage.INVESTIGATING, STAFF, "Start investigation"),
    Transition(Stage.INVESTIGATING, Stage.RESOLVED, STAFF, "Propose resolution"),
    Transition(
        Stage.RESOLVED,
        Stage.INVESTIGATING,
        STAFF | {CUSTOMER},
        "Back to investigation",
    ),
    Transition(Stage.RESOLVED, Stage.FOLLOW_UP, STAFF | {SYSTEM}, "Start follow-up"),
    Transition(
        Stage.FOLLOW_UP,
        Stage.INVESTIGATING,
        STAFF | {CUSTOMER},
        "Reopen: not resolved",
        needs_reason=True,
    ),
    Transition(Stage.FOLLOW_UP, Stage.DOCUMENTED, STAFF | {SYSTEM}, "Mark documented"),
    Transition(Stage.DOCUMENTED, Stage.REVIEWED, frozenset({MANAGER}), "Sign off review"),
    *(
        Transition(source, Stage.WITHDRAWN, STAFF, "Withdrawn by the customer")
        for source in Stage
        if source in OPEN_STAGES
    ),
    *(
        Transition(source, Stage.DUPLICATE, STAFF, "Merge as a duplicate")
        for source in BEFORE_RESOLUTION
    ),
    *(
        Transition(source, Stage.NOT_A_COMPLAINT, STAFF, "Not a complaint")
        for source in BEFORE_RESOLUTION
    ),
)
_BY_PAIR = {(t.source, t.target): t for t in TRANSITIONS}


ROLE_LABELS = {CSR: "a CSR", RESOLVER: "the resolution team", MANAGER: "a manager"}


class Refused(Exception):
    """An action the rules forbid; the message is a sentence for the person who tried."""

    def __init__(self, message):
        super().__init__(message)
        self.message = message


class TransitionRefused(Refused):
    pass


def find_transition(source, target):
    return _BY_PAIR.get((Stage(source), Stage(target)))


def transitions_from(source, role):
    """The moves a person in this role may make from this stage (for choosing buttons)."""
    return [t for t in TRANSITIONS if t.source == source and role in t.roles]


@dataclass(frozen=True)
class CaseFacts:
    """What the gates need to know about a complaint, gathered by the service layer."""

    acknowledged: bool = False
    has_resolution_proposal: bool = False
    resolution_pending_approval: bool = False
    resolution_implemented: bool = False
    has_root_cause: bool = False
    has_outcome: bool = False
    has_feedback: bool = False
    feedback_waived: bool = False
    has_investigation_record: bool = False
    has_review: bool = False
    has_description: bool = True
    has_category: bool = True
    # The exits' own record, set by their services before the move.
    withdrawal_recorded: bool = False
    duplicate_of_recorded: bool = False
    exit_reason_recorded: bool = False


@dataclass(frozen=True)
class Requirement:
    """One thing the record needs before it may enter a stage; `key` names it for the page
    that offers a way to supply it."""

    key: str
    phrase: str
    met: bool


def requirements_for(target, facts):
    """Everything the record needs before it may enter `target`, met or not, in the order a
    person supplies them. The case page's checklist and check_transition's refusal both read
    this one list, so what the page asks for is what the move demands."""
    target = Stage(target)
    needs = []
    if target == Stage.ACKNOWLEDGED:
        needs.append(
            (
                "acknowledgment",
                "the acknowledgment (how and when the customer was told)",
                facts.acknowledged,
            )
        )
    if target == Stage.RESOLVED:
        needs.append(
            ("resolution_proposal", "a resolution proposal", facts.has_resolution_proposal)
        )
    if target == Stage.FOLLOW_UP:
        needs += [
            (
                "approval",
                "a manager's approval of the resolution",
                not facts.resolution_pending_approval,
            ),
            (
                "implementation",
                "the implementation of the resolution",
                facts.resolution_implemented,
            ),
        ]
    if target == Stage.DOCUMENTED:
        needs += [
            ("description", "the description", facts.has_description),
            ("category", "a category", facts.has_category),
            ("investigation_record", "investigation notes", facts.has_investigation_record),
            ("implementation", "an implemented resolution", facts.resolution_implemented),
            ("root_cause", "root cause", facts.has_root_cause),
            ("outcome", "the outcome", facts.has_outcome),
            ("feedback", "customer feedback", facts.has_feedback or facts.feedback_waived),
        ]
    if target == Stage.REVIEWED:
        needs.append(("review", "the manager's review (quality notes)", facts.has_review))
    if target == Stage.WITHDRAWN:
        needs.append(
            (
                "withdrawal",
                "the customer's words and the date they withdrew",
                facts.withdrawal_recorded,
            )
        )
    if target == Stage.DUPLICATE:
        needs.append(("duplicate_of", "the complaint it duplicates", facts.duplicate_of_recorded))
    if target == Stage.NOT_A_COMPLAINT:
        needs.append(
            ("exit_reason", "the reason it is not a complaint", facts.exit_reason_recorded)
        )
    return [Requirement(key, phrase, met) for key, phrase, met in needs]


def next_stage(stage):
    """The stage that follows `stage` on the procedure's path, or None at its end."""
    stage = Stage(stage)
    if stage not in PROCEDURE:
        return None  # an exit ends the case off the path
    position = PROCEDURE.index(stage)
    return PROCEDURE[position + 1] if position + 1 < len(PROCEDURE) else None


def missing_for(target, facts):
    """What the record lacks before it may enter `target`, as short phrases for a sentence."""
    return [r.phrase for r in requirements_for(target, facts) if not r.met]


def join_phrases(phrases):
    if len(phrases) <= 1:
        return "".join(phrases)
    return ", ".join(phrases[:-1]) + " and " + phrases[-1]


def check_transition(source, target, role, facts):
    """Raise TransitionRefused with a sentence the user sees, or return the Transition."""
    if target not in Stage._value2member_map_:
        raise TransitionRefused(f"There is no stage called {str(target)[:40]!r}.")
    source, target = Stage(source), Stage(target)
    transition = find_transition(source, target)
    if transition is None:
        raise TransitionRefused(
            f"Cannot move from {source.label} to {target.label}: "
            "that is not a step of the complaints procedure."
        )
    if role not in transition.roles:
        allowed = sorted(ROLE_LABELS.get(r, r) for r in transition.roles if r in ROLE_LABELS)
        raise TransitionRefused(
            f"Cannot move to {target.label}: only {join_phrases(allowed)} may do that."
        )
    missing = missing_for(target, facts)
    if missing:
        verb = "is" if len(missing) == 1 else "are"
        raise TransitionRefused(
            f"Cannot move to {target.label}: {join_phrases(missing)} {verb} missing."
        )
    return transition
