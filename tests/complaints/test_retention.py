"""Retention: closed cases past their policy are anonymised once, in batches, files and
message bodies gone, history scrubbed, reports unchanged; a legal hold stops it."""

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from complaints import jobs, services
from complaints.models import (
    Anonymisation,
    Attachment,
    Complaint,
    Note,
    OutboundMessage,
    RetentionPolicy,
)
from complaints.selectors.record import record_verify
from complaints.services.record import record_chain_extend
from complaints.services.retention import (
    complaints_anonymise,
    legal_hold_place,
    legal_hold_release,
    retention_apply,
)
from complaints.workflow import Refused
from reports.metrics import build_metrics
from tests import factories

pytestmark = pytest.mark.django_db

PDF = (
    b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n"
    b"2 0 obj\n<< /Type /Pages /Kids [] /Count 0 >>\nendobj\n"
    b"trailer\n<< /Root 1 0 R >>\n%%EOF\n"
)
YEARS = 365


def closed_case(csr, resolver, manager, *, years_ago=4, **overrides):
    """A reviewed case with an email, a document and a refund, closed `years_ago` years ago."""
    overrides.setdefault("customer_email", "priya@example.com")
    overrides.setdefault("customer_phone", "+44 7700 900123")
    overrides.setdefault("channel", "email")
    case = factories.complaint_at_stage(
        "follow_up", csr=csr, resolver=resolver, manager=manager, **overrides
    )
    services.attachment_add(
        case, actor=csr, upload=SimpleUploadedFile("statement.pdf", PDF, "application/pdf")
    )
    services.complaint_update(case, actor=csr, changes={"root_cause": factories.root_cause()})
    services.feedback_record(case, actor=csr, score=4, resolved=True, comment="Thanks, Priya")
    services.complaint_outcome_record(case, actor=csr, outcome="upheld")
    services.complaint_transition(case, "documented", actor=csr)
    services.review_sign_off(case, actor=manager, quality_notes="Handled well.")
    Complaint.objects.filter(pk=case.pk).update(
        closed_at=timezone.now() - timedelta(days=years_ago * YEARS)
    )
    case.refresh_from_db()
    return case


def policy(**overrides):
    values = {
        "name": "Closed cases",
        "minimum_days": 3 * YEARS,
        "anonymise_after_days": 3 * YEARS,
        "source": "FCA DISP 1.9.1R",
    }
    values.update(overrides)
    return RetentionPolicy.objects.create(**values)


def figures():
    now = timezone.now()
    return build_metrics(now - timedelta(days=30), now + timedelta(days=1))


def test_retention_anonymises_a_closed_case_past_its_policy(csr, resolver, manager):
    case = closed_case(csr, resolver, manager)
    path = services.attachment_path(case.attachments.get())
    assert path.exists()
    assert OutboundMessage.objects.filter(complaint=case).exists()
    before = figures()
    policy()

    assert retention_apply() == {"anonymised": 1}

    case.refresh_from_db()
    assert case.customer_name == "Anonymised"
    assert case.customer_email == case.customer_phone == case.customer_phone_digits == ""
    assert case.description == "[removed]"
    assert not path.exists()
    assert Attachment.objects.get(complaint=case).original_name == "[removed]"
    for message in OutboundMessage.objects.filter(complaint=case):
        assert (message.body_text, message.body_html, message.recipient) == ("", "", "")
    assert set(Note.objects.filter(complaint=case).values_list("text", flat=True)) == {"[removed]"}
    history = case.history.all()
    assert history.count() > 3
    assert not history.filter(customer_name="Priya Shah").exists()
    assert not history.filter(customer_email="priya@example.com").exists()
    assert not Note.history.filter(complaint_id=case.pk).exclude(text="[removed]").exists()
    # What reports read is kept: the same figures before and after.
    assert figures() == before
    assert case.stage == "reviewed" and case.category_id and case.resolutions.exists()


def test_retention_acts_once(csr, resolver, manager):
    closed_case(csr, resolver, manager)
    policy()
    assert retention_apply() == {"anonymised": 1}
    assert retention_apply() == {"anonymised": 0}
    assert Anonymisation.objects.count() == 1


def test_retention_works_in_batches(csr, resolver, manager):
    for n in range(3):
        closed_case(csr, resolver, manager, customer_email=f"p{n}@example.com")
    policy()
    assert retention_apply(batch=2) == {"anonymised": 3}


def test_recent_and_open_cases_are_kept(csr, resolver, manager):
    recent = closed_case(csr, resolver, manager, years_ago=1)
    open_case = factories.complaint(csr)
    policy()
    assert retention_apply() == {"anonymised": 0}
    recent.refresh_from_db()
    open_case.refresh_from_db()
    assert recent.customer_name == open_case.customer_name == "Priya Shah"


def test_a_product_policy_overrides_the_default(csr, resolver, manager):
    mortgage = factories.product("Mortgage")
    long_kept = closed_case(csr, resolver, manager, product=mortgage)
    default = closed_case(csr, resolver, manager, customer_email="other@example.com")
    policy()
    policy(
        name="Mortgages", product=mortgage, minimum_days=6 * YEARS, anonymise_after_days=6 * YEARS
    )
    assert retention_apply() == {"anonymised": 1}
    assert Anonymisation.objects.get().complaint_id == default.pk
    long_kept.refresh_from_db()
    assert long_kept.customer_name == "Priya Shah"


def test_a_legal_hold_stops_retention_until_released(csr, resolver, manager):
    case = closed_case(csr, resolver, manager)
    policy()
    legal_hold_place(case, actor=manager, reason="Ombudsman referral FOS-123")
    assert retention_apply() == {"anonymised": 0}
    case.refresh_from_db()
    assert case.customer_name == "Priya Shah"
    assert Note.objects.filter(complaint=case, text__contains="FOS-123").exists()

    legal_hold_release(case, actor=manager, reason="Ombudsman closed the referral")
    assert retention_apply() == {"anonymised": 1}


def test_legal_holds_are_for_managers_with_a_reason(csr, manager):
    case = factories.complaint(csr)
    with pytest.raises(Refused):
        legal_hold_place(case, actor=csr, reason="Litigation")
    with pytest.raises(Refused):
        legal_hold_place(case, actor=manager, reason="  ")
    legal_hold_place(case, actor=manager, reason="Litigation")
    with pytest.raises(Refused, match="already"):
        legal_hold_place(case, actor=manager, reason="Litigation again")
    with pytest.raises(Refused):
        legal_hold_release(case, actor=manager, reason="")


def test_anonymisation_keeps_the_record_verifiable(csr, resolver, manager):
    case = closed_case(csr, resolver, manager)
    record_chain_extend()
    assert record_verify().intact
    complaints_anonymise([case.pk], reason="test")
    record_chain_extend()
    result = record_verify()
    assert result.intact, result.breaks
    assert record_verify(in_sql=False).intact


def test_the_retention_job_is_registered_and_scheduled(settings):
    assert jobs.JOBS["apply_retention"] is retention_apply
    assert settings.CELERY_BEAT_SCHEDULE["apply_retention"]["task"] == (
        "complaints.tasks.apply_retention"
    )
