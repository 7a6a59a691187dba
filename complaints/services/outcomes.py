"""The outcome of a complaint (complaints/outcomes.py): recorded by staff, in the terms of
the regulator its profile answers to, before the case may be documented."""

from django.db import transaction

from complaints.outcomes import OUTCOME_LABELS, is_outcome_of, outcomes_for
from complaints.permissions import Action, require
from complaints.services.common import attribute, locked
from complaints.workflow import Refused, Stage, join_phrases


@transaction.atomic
def complaint_outcome_record(complaint, *, actor, outcome):
    complaint = locked(complaint)
    require(actor, complaint, Action.EDIT)
    if not complaint.is_open and complaint.stage != Stage.DOCUMENTED:
        raise Refused("A reviewed or closed complaint's outcome can no longer be changed.")
    scheme = complaint.profile.returns_scheme
    if not is_outcome_of(outcome, scheme):
        allowed = [label for _, label in outcomes_for(scheme)]
        raise Refused(
            f"Under {complaint.profile.name} the outcome is one of: {join_phrases(allowed)}."
        )
    if complaint.outcome == outcome:
        return complaint
    complaint.outcome = outcome
    attribute(complaint, actor, f"Outcome recorded: {OUTCOME_LABELS[outcome]}")
    complaint.save(update_fields=["outcome", "updated_at"])
    return complaint
