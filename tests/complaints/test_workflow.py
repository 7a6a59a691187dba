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
    # The exits: withdrawn from any open stage; duplicate and not a complaint only before a
    # resolution is proposed.
    *((source, Stage.WITHDRAWN) for source in workflow.OPEN_STAGES),
    *((source, Stage.DUPLICATE) for source in workflow.BEFORE_RESOLUTION),
    *((source, Stage.NOT_A_COMPLAINT) for source in workflow.BEFORE_RESOLUTION),
}
COMPLETE = CaseFacts(
    acknowledged=True,
    has_resolution_proposal=True,
    resolution_implemented=True,
    has_root_cause=True,
    has_outcome=True,
    has_feedback=True,
    has_investigation_record=True,
    has_review=True,
    withdrawal_recorded=True,
    duplicate_of_recorded=True,
    exit_reason_recorded=True,
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
        "Cannot move to Documented: root cause, the outcome and customer feedback are missing."
    )


def test_waived_feedback_satisfies_the_documented_gate():
    facts = CaseFacts(
        resolution_implemented=True,
        has_investigation_record=True,
        has_root_cause=True,
        has_outcome=True,
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
    assert verbs == {"Reopen: not resolved", "Mark documented", "Withdrawn by the customer"}
    assert workflow.transitions_from(Stage.DOCUMENTED, workflow.CSR) == []


def test_open_stage_values_are_stable_and_ordered():
    assert workflow.OPEN_STAGE_VALUES == (
        "received",
        "acknowledged",
        "investigating",
        "resolved",
        "follow_up",
    )


def test_exits_are_final_and_closed():
    for exit_stage in workflow.EXIT_STAGES:
        assert workflow.transitions_from(exit_stage, workflow.MANAGER) == []
        assert exit_stage.value not in workflow.OPEN_STAGE_VALUES
        assert exit_stage.value in workflow.CLOSED_STAGE_VALUES


@pytest.mark.parametrize(
    ("target", "missing"),
    [
        (Stage.WITHDRAWN, "the customer's words and the date they withdrew is missing"),
        (Stage.DUPLICATE, "the complaint it duplicates is missing"),
        (Stage.NOT_A_COMPLAINT, "the reason it is not a complaint is missing"),
    ],
)
def test_each_exit_needs_its_own_record(target, missing):
    with pytest.raises(TransitionRefused) as refused:
        check_transition(Stage.ACKNOWLEDGED, target, workflow.CSR, CaseFacts(acknowledged=True))
    assert refused.value.message == f"Cannot move to {target.label}: {missing}."


@pytest.mark.parametrize("target", sorted(workflow.EXIT_STAGES))
@pytest.mark.parametrize("role", [workflow.CUSTOMER, workflow.SYSTEM])
def test_only_staff_close_a_case_by_an_exit(target, role):
    with pytest.raises(TransitionRefused, match="only"):
        check_transition(Stage.INVESTIGATING, target, role, COMPLETE)


def test_a_resolved_case_can_be_withdrawn_but_not_merged_or_dismissed():
    check_transition(Stage.RESOLVED, Stage.WITHDRAWN, workflow.CSR, COMPLETE)
    for target in (Stage.DUPLICATE, Stage.NOT_A_COMPLAINT):
        with pytest.raises(TransitionRefused):
            check_transition(Stage.RESOLVED, target, workflow.MANAGER, COMPLETE)
