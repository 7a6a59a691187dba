"""The seven stages and the transition table: pure Python, no ORM.

Services ask this module whether a move is allowed and what is missing; templates ask it
only to choose which buttons to show. Nothing here touches the database.
"""

from dataclasses import dataclass, field
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
    has_feedback: bool = False
    feedback_waived: bool = False
    has_investigation_record: bool = False
    has_review: bool = False
    # The exits' own record, set by their services before the move.
    withdrawal_recorded: bool = False
    duplicate_of_recorded: bool = False
    exit_reason_recorded: bool = False
    missing_fields: tuple = field(default_factory=tuple)


def missing_for(target, facts):
    """What the record lacks before it may enter `target`, as short phrases for a sentence."""
    target = Stage(target)
    missing = []
    if target == Stage.ACKNOWLEDGED and not facts.acknowledged:
        missing.append("the acknowledgment (how and when the customer was told)")
    if target == Stage.RESOLVED and not facts.has_resolution_proposal:
        missing.append("a resolution proposal")
    if target == Stage.FOLLOW_UP:
        if facts.resolution_pending_approval:
            missing.append("a manager's approval of the resolution")
        if not facts.resolution_implemented:
            missing.append("the implementation of the resolution")
    if target == Stage.DOCUMENTED:
        missing.extend(facts.missing_fields)
        if not facts.has_investigation_record:
            missing.append("investigation notes")
        if not facts.resolution_implemented:
            missing.append("an implemented resolution")
        if not facts.has_root_cause:
            missing.append("root cause")
        if not (facts.has_feedback or facts.feedback_waived):
            missing.append("customer feedback")
    if target == Stage.REVIEWED and not facts.has_review:
        missing.append("the manager's review (quality notes)")
    if target == Stage.WITHDRAWN and not facts.withdrawal_recorded:
        missing.append("the customer's words and the date they withdrew")
    if target == Stage.DUPLICATE and not facts.duplicate_of_recorded:
        missing.append("the complaint it duplicates")
    if target == Stage.NOT_A_COMPLAINT and not facts.exit_reason_recorded:
        missing.append("the reason it is not a complaint")
    return missing


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
