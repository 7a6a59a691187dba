"""The transition table on its own: no database."""

import itertools

import pytest

from complaints import workflow
from complaints.workflow import CaseFacts, Stage, TransitionRefused, check_transition

ALLOWED = {
    (Stage.RECEIVED, Stage.ACKNOWLEDGED),
    (Stage.ACKNOWLEDGED, Stage.INVESTIGATING),
    (Stage.INVESTIGATING, Stage.RESOLVED),
    (Stage.RESOLVED, Stage.INVESTIGATING),
    (Stage.RESOLVED, Stage.FOLLOW_UP),
    (Stage.FOLLOW_UP, Stage.INVESTIGATING),
    (Stage.FOLLOW_UP, Stage.DOCUMENTED),
    (Stage.DOCUMENTED, Stage.REVIEWED),
}
COMPLETE = CaseFacts(
    acknowledged=True,
    has_resolution_proposal=True,
    resolution_implemented=True,
    has_root_cause=True,
    has_feedback=True,
    has_investigation_record=True,
    has_review=True,
)


@pytest.mark.parametrize(("source", "target"), sorted(ALLOWED))
def test_allowed_pair_passes_for_a_manager_with_a_complete_record(source, target):
    assert check_transition(source, target, workflow.MANAGER, COMPLETE).target == target


@pytest.mark.parametrize(
    ("source", "target"),
    [pair for pair in itertools.product(Stage, Stage) if pair not in ALLOWED],
)
def test_every_other_pair_is_refused_with_a_sentence(source, target):
    with pytest.raises(TransitionRefused) as refused:
        check_transition(source, target, workflow.MANAGER, COMPLETE)
    assert "not a step of the complaints procedure" in refused.value.message


@pytest.mark.parametrize("role", [workflow.CSR, workflow.RESOLVER, workflow.CUSTOMER])
def test_only_a_manager_signs_off_a_review(role):
    with pytest.raises(TransitionRefused, match="only a manager may do that"):
        check_transition(Stage.DOCUMENTED, Stage.REVIEWED, role, COMPLETE)


def test_customer_may_reopen_but_not_move_forward():
    check_transition(Stage.FOLLOW_UP, Stage.INVESTIGATING, workflow.CUSTOMER, COMPLETE)
    with pytest.raises(TransitionRefused):
        check_transition(Stage.FOLLOW_UP, Stage.DOCUMENTED, workflow.CUSTOMER, COMPLETE)


def test_documented_names_everything_missing():
    facts = CaseFacts(resolution_implemented=True, has_investigation_record=True)
    with pytest.raises(TransitionRefused) as refused:
        check_transition(Stage.FOLLOW_UP, Stage.DOCUMENTED, workflow.CSR, facts)
    assert refused.value.message == (
        "Cannot move to Documented: root cause and customer feedback are missing."
    )


def test_waived_feedback_satisfies_the_documented_gate():
    facts = CaseFacts(
        resolution_implemented=True,
        has_investigation_record=True,
        has_root_cause=True,
        feedback_waived=True,
    )
    check_transition(Stage.FOLLOW_UP, Stage.DOCUMENTED, workflow.SYSTEM, facts)


def test_follow_up_needs_approval_and_implementation():
    facts = CaseFacts(has_resolution_proposal=True, resolution_pending_approval=True)
    with pytest.raises(TransitionRefused) as refused:
        check_transition(Stage.RESOLVED, Stage.FOLLOW_UP, workflow.CSR, facts)
    assert "a manager's approval of the resolution" in refused.value.message
    assert "the implementation of the resolution" in refused.value.message


def test_buttons_offered_follow_the_table():
    verbs = {t.verb for t in workflow.transitions_from(Stage.FOLLOW_UP, workflow.CSR)}
    assert verbs == {"Reopen: not resolved", "Mark documented"}
    assert workflow.transitions_from(Stage.DOCUMENTED, workflow.CSR) == []


def test_open_stage_values_are_stable_and_ordered():
    assert workflow.OPEN_STAGE_VALUES == (
        "received",
        "acknowledged",
        "investigating",
        "resolved",
        "follow_up",
    )
