"""The sub-status: what an open case waits for within its stage, shown beside the stage.

Pure, like workflow.py: the services gather the facts and store the result on the complaint
(Complaint.sub_status), so lists, exports and the API filter on an indexed column instead of
re-deriving it from resolutions and feedback for every row.
"""

from enum import StrEnum

from complaints.workflow import OPEN_STAGES, Stage


class SubStatus(StrEnum):
    NONE = ""
    AWAITING_APPROVAL = "awaiting_approval"
    AWAITING_CUSTOMER = "awaiting_customer"
    CUSTOMER_ACCEPTED = "customer_accepted"
    CUSTOMER_REPLIED = "customer_replied"
    AWAITING_IMPLEMENTATION = "awaiting_implementation"
    AWAITING_FEEDBACK = "awaiting_feedback"

    @property
    def label(self):
        return SUB_STATUS_LABELS[self]


SUB_STATUS_LABELS = {
    SubStatus.NONE: "",
    SubStatus.AWAITING_APPROVAL: "awaiting approval",
    SubStatus.AWAITING_CUSTOMER: "awaiting the customer",
    SubStatus.CUSTOMER_ACCEPTED: "customer accepted",
    SubStatus.CUSTOMER_REPLIED: "customer replied",
    SubStatus.AWAITING_IMPLEMENTATION: "awaiting implementation",
    SubStatus.AWAITING_FEEDBACK: "awaiting feedback",
}
# What the list filters by; the column also holds "" (nothing), as the API documents.
SUB_STATUS_CHOICES = [(s.value, s.label) for s in SubStatus if s]
SUB_STATUS_COLUMN_CHOICES = [("", "nothing"), *SUB_STATUS_CHOICES]
# News from the customer: shown until the person it was for opens the case, then the case
# falls back to what it waits for.
NEWS = frozenset({SubStatus.CUSTOMER_ACCEPTED, SubStatus.CUSTOMER_REPLIED})


def sub_status(stage, *, resolution_status=None, feedback_given=False, news=SubStatus.NONE):
    """What an open case waits for. `resolution_status` is the live resolution's (a
    ResolutionStatus value, or None), `news` the customer's unread word (one of NEWS)."""
    stage = Stage(stage)
    if stage not in OPEN_STAGES:
        return SubStatus.NONE
    if news == SubStatus.CUSTOMER_REPLIED:
        return SubStatus.CUSTOMER_REPLIED
    if stage == Stage.RESOLVED:
        if resolution_status == "awaiting_approval":
            return SubStatus.AWAITING_APPROVAL
        if resolution_status == "proposed":
            return SubStatus.AWAITING_CUSTOMER
        if resolution_status == "accepted":
            if news == SubStatus.CUSTOMER_ACCEPTED:
                return SubStatus.CUSTOMER_ACCEPTED
            return SubStatus.AWAITING_IMPLEMENTATION
    if stage == Stage.FOLLOW_UP and not feedback_given:
        return SubStatus.AWAITING_FEEDBACK
    return SubStatus.NONE
