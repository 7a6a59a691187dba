"""Reads for the responses regulators require (docs/responses.md): which types a profile
offers, their required elements, the facts of the case the checks read, and the documents
kept to enclose."""

from complaints.models import (
    MONEY_RESOLUTION_TYPES,
    RequiredElement,
    ResolutionStatus,
    ResponseEnclosure,
)
from complaints.outcomes import UPHELD, is_outcome_of
from complaints.responses import LATE_ANSWER_TYPES, CaseFacts, ResponseType

DEAD_RESOLUTIONS = (ResolutionStatus.WITHDRAWN, ResolutionStatus.APPROVAL_REFUSED)


def required_elements(profile, response_type):
    return list(
        RequiredElement.objects.filter(profile=profile, response_type=response_type, active=True)
    )


def response_types_offered(profile):
    """A plain reply, then the types the profile requires something of, in the choices'
    order."""
    types = set(
        RequiredElement.objects.filter(profile=profile, active=True)
        .order_by()
        .values_list("response_type", flat=True)
    )
    return [ResponseType.REPLY, *(t for t in ResponseType if t in types)]


def late_answer_type(profile_id):
    """The letter a person writes under this profile when its answer will be late
    (LATE_ANSWER_TYPES), or None where the firm's automatic delay notice will do."""
    declared = set(
        RequiredElement.objects.filter(
            profile_id=profile_id, response_type__in=LATE_ANSWER_TYPES, active=True
        )
        .order_by()
        .values_list("response_type", flat=True)
    )
    return next((t for t in LATE_ANSWER_TYPES if t in declared), None)


def enclosures_of(profile):
    """{code: ResponseEnclosure} of the documents kept for the profile."""
    return {e.code: e for e in ResponseEnclosure.objects.filter(profile=profile)}


def case_facts(complaint):
    """What the fact checks read from the case."""
    outcome = complaint.outcome
    recorded = bool(outcome) and is_outcome_of(outcome, complaint.profile.returns_scheme)
    redress = any(
        resolution.type not in MONEY_RESOLUTION_TYPES or resolution.amount is not None
        for resolution in complaint.resolutions.exclude(status__in=DEAD_RESOLUTIONS)
    )
    return CaseFacts(
        outcome_recorded=recorded,
        upholds=recorded and outcome in UPHELD,
        redress_recorded=redress,
        resolved_early=complaint.early_resolution_at is not None,
    )
