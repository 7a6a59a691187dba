"""One rule for the ids, numbers and dates a request carries: out of range is a 400 or a form
error with a sentence, never a server error (complaints/input_limits.py).

First the causes a black-box probe found (issue 25), each pinned; then Hypothesis over every
list filter (page, CSV export, API) and every form's date and number fields.
"""

import json
from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from complaints import services
from complaints.input_limits import DAY_MESSAGE, ID_MESSAGE
from complaints.models import Complaint
from complaints.selectors import ComplaintFilterSet
from complaints.workflow import Refused
from reports import services as reports_services
from reports.forms import ProcedureReviewForm
from reports.models import ProcedureReview, TrendReport
from tests import factories
from tests.api.conftest import error_fields, error_messages, new_complaint, token_client

pytestmark = pytest.mark.django_db

LIST, EXPORT, API_LIST = (
    reverse("complaints:list"),
    reverse("complaints:export"),
    "/api/v1/complaints/",
)
REBUILD, REVIEWS = reverse("reports:rebuild"), reverse("reports:reviews")


@pytest.fixture(autouse=True)
def _roomy_api_rate(settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"api": "100000/min"},
    }


def signed_in(user):
    client = Client(raise_request_exception=False)
    client.force_login(user)
    return client


def body(response):
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content).decode()
    return response.content.decode()


# The probe's findings ---------------------------------------------------------------------


@pytest.mark.parametrize("assignee", ["9" * 30, "1" * 5000])
def test_an_assignee_id_out_of_range_is_ignored_by_the_list_and_its_export(assignee, csr, manager):
    complaint = factories.complaint(csr)
    client = signed_in(manager)
    for view in (LIST, EXPORT):
        response = client.get(view, {"assignee": assignee})
        assert response.status_code == 200
        assert complaint.reference in body(response)


def test_1e400_as_the_category_of_a_new_complaint_is_a_400(manager):
    raw = json.dumps(new_complaint()).replace('"category": ', '"category": 1e400, "x": ')
    response = token_client(manager).post(API_LIST, raw, content_type="application/json")
    assert response.status_code == 400
    assert error_fields(response) == ["category"]
    assert error_messages(response) == [ID_MESSAGE]
    assert not Complaint.objects.exists()


def test_1e400_as_the_assignee_is_a_400(csr, manager):
    complaint = factories.complaint(csr)
    response = token_client(manager).post(
        f"{API_LIST}{complaint.pk}/assign/", '{"assignee": 1e400}', content_type="application/json"
    )
    assert response.status_code == 400
    assert error_fields(response) == ["assignee"]


@pytest.mark.parametrize("path", [API_LIST, "assign/"])
def test_a_body_nested_fifty_thousand_deep_is_malformed_json(path, csr, manager):
    complaint = factories.complaint(csr)
    url = API_LIST if path == API_LIST else f"{API_LIST}{complaint.pk}/{path}"
    response = token_client(manager).post(url, "[" * 50_000, content_type="application/json")
    assert response.status_code == 400
    assert error_fields(response) == [None]
    assert "Malformed JSON" in error_messages(response)[0]


@pytest.mark.parametrize("day", ["0001-01-01", "0001-01-03", "9999-12-31", "1899-12-31"])
@pytest.mark.parametrize("period", ["daily", "weekly", "monthly"])
def test_a_rebuild_outside_the_sane_range_says_so(day, period, manager):
    response = signed_in(manager).post(REBUILD, {"period": period, "day": day}, follow=True)
    assert response.status_code == 200
    assert DAY_MESSAGE in response.content.decode()
    assert not TrendReport.objects.exists()


def review_form(**extra):
    return {"held_on": "2026-04-20", "participants": "Ann", "findings": "Fine.", **extra}


@pytest.mark.parametrize("held_on", ["9999-12-31", "tomorrow"])
def test_a_review_held_in_the_future_is_refused_and_the_pages_stay_up(held_on, manager):
    client = signed_in(manager)
    if held_on == "tomorrow":
        held_on = (timezone.localdate() + timedelta(days=1)).isoformat()
    response = client.post(REVIEWS, review_form(held_on=held_on))
    assert response.status_code == 200
    assert not ProcedureReview.objects.exists()
    errors = response.context["form"].errors["held_on"]
    assert errors in (
        [reports_services.REVIEW_IN_THE_FUTURE],
        [DAY_MESSAGE],
    ), errors
    assert client.get(REVIEWS).status_code == 200
    assert client.get(reverse("home")).status_code == 200
    assert token_client(manager).get("/api/v1/dashboard/").status_code == 200


def test_the_review_service_refuses_a_future_day_whatever_the_form(manager):
    form = ProcedureReviewForm(review_form())
    assert form.is_valid(), form.errors
    form.instance.held_on = date(9999, 12, 31)
    form.cleaned_data["held_on"] = date(9999, 12, 31)
    with pytest.raises(ValidationError, match="cannot be held in the future"):
        reports_services.procedure_review_record(form, [], actor=manager)
    assert not ProcedureReview.objects.exists()


def test_a_complaint_cannot_be_received_in_the_future(manager):
    data = factories.complaint_data()
    with pytest.raises(Refused, match="received in the future"):
        services.complaint_create(
            actor=manager, data=data, received_at=timezone.now() + timedelta(days=1)
        )
    assert not Complaint.objects.exists()


def test_an_edit_cannot_date_the_complaint_in_the_future(csr, manager):
    complaint = factories.complaint(csr)
    with pytest.raises(Refused, match="cannot be in the future"):
        services.complaint_update(
            complaint,
            actor=manager,
            changes={"date_of_complaint": timezone.localdate() + timedelta(days=1)},
        )


def test_a_resolution_cannot_be_implemented_in_the_future(csr, resolver, manager):
    complaint = factories.complaint_at_stage(
        "resolved", csr=csr, resolver=resolver, manager=manager
    )
    services.resolution_record_customer_response(complaint, actor=csr, accepted=True)
    with pytest.raises(Refused, match="implemented in the future"):
        services.resolution_implement(
            complaint, actor=csr, notes="Refunded.", at=timezone.now() + timedelta(days=2)
        )
    complaint.refresh_from_db()
    assert complaint.stage == "resolved"


@pytest.mark.parametrize("day", ["0001-01-01", "9999-12-31"])
def test_the_intake_and_edit_forms_refuse_a_day_out_of_range(day, csr, manager):
    client = signed_in(manager)
    data = {**factories.complaint_data(), "date_of_complaint": day}
    data = {k: getattr(v, "pk", v) for k, v in data.items() if v is not None}
    response = client.post(reverse("complaints:create"), data)
    assert response.status_code == 400
    assert response.context["form"].errors["date_of_complaint"] == [DAY_MESSAGE]
    complaint = factories.complaint(csr)
    response = client.post(reverse("complaints:edit", args=[complaint.pk]), data)
    assert response.context["form"].errors["date_of_complaint"] == [DAY_MESSAGE]


# Hypothesis -----------------------------------------------------------------------------

FUZZ = hsettings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

numbers = st.one_of(
    st.integers(min_value=-(10**40), max_value=10**40).map(str),
    st.integers(min_value=2**31 - 2, max_value=2**64 + 2).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(str),
    st.sampled_from(["1e400", "-1e400", "NaN", "Infinity", "9" * 30, "1" * 5000, "٣", "²", "0x10"]),
)
days = st.one_of(
    st.dates(min_value=date(1, 1, 1), max_value=date(9999, 12, 31)).map(date.isoformat),
    st.sampled_from(["0001-01-01", "0001-01-03", "9999-12-31", "0000-00-00", "2026-02-30"]),
    st.text(max_size=20),
)
words = st.one_of(st.text(max_size=40), st.sampled_from(["open", "all", "me", "not_me", "none"]))
# Every parameter the filter set declares, with values of every kind it could be sent.
FILTER_VALUES = {name: st.one_of(numbers, days, words) for name in ComplaintFilterSet.base_filters}


@FUZZ
@given(
    params=st.fixed_dictionaries({}, optional={**FILTER_VALUES, "page": numbers}),
    view=st.sampled_from([LIST, EXPORT, API_LIST]),
)
def test_no_list_filter_value_is_a_server_error(params, view, csr, manager):
    if not Complaint.objects.exists():
        factories.complaint(csr)
    if view == API_LIST:
        response = token_client(manager).get(view, params)
        assert response.status_code in (200, 400), (params, response.status_code)
    else:
        response = signed_in(manager).get(view, params)
        assert response.status_code == 200, (params, response.status_code)
        body(response)


@FUZZ
@given(
    date_of_complaint=days,
    category=numbers,
    product=numbers,
    assignee=numbers,
    amount=numbers,
    as_text=st.booleans(),
)
def test_no_number_or_date_in_an_api_body_is_a_server_error(
    date_of_complaint, category, product, assignee, amount, as_text, csr, manager
):
    client = token_client(manager)
    complaint = Complaint.objects.filter(logged_by=csr).first() or factories.complaint(csr)

    def post(url, **fields):
        # Numbers go in raw (1e400 stays 1e400), or quoted as strings.
        raw = ", ".join(
            f'"{name}": {json.dumps(value) if as_text or not _is_number(value) else value}'
            for name, value in fields.items()
        )
        return client.post(url, "{" + raw + "}", content_type="application/json")

    base = {k: v for k, v in new_complaint().items() if k not in ("category", "product")}
    fields = {**base, "date_of_complaint": date_of_complaint}
    response = post(API_LIST, **fields, category=category, product=product)
    assert response.status_code in (201, 400), response.status_code
    response = post(f"{API_LIST}{complaint.pk}/assign/", assignee=assignee)
    assert response.status_code in (200, 400, 409), response.status_code
    response = post(
        f"{API_LIST}{complaint.pk}/resolution/", type="refund", description="x", amount=amount
    )
    assert response.status_code in (200, 400, 409), response.status_code


def _is_number(value):
    try:
        json.loads(value)
    except (ValueError, RecursionError):
        return False
    return isinstance(json.loads(value), int | float) and not isinstance(json.loads(value), bool)


@FUZZ
@given(
    day=days,
    period=st.sampled_from(["daily", "weekly", "monthly", "yearly"]),
    held_on=days,
    due_date=days,
    owner=numbers,
    report=numbers,
)
def test_no_date_or_number_in_the_report_forms_is_a_server_error(
    day, period, held_on, due_date, owner, report, manager
):
    client = signed_in(manager)
    response = client.post(REBUILD, {"period": period, "day": day})
    assert response.status_code == 302, response.status_code
    response = client.post(
        REVIEWS,
        review_form(
            held_on=held_on,
            reports=[report],
            **{
                "action-0-description": "Fix it",
                "action-0-owner": owner,
                "action-0-due_date": due_date,
            },
        ),
    )
    assert response.status_code in (200, 302), response.status_code
    assert client.get(REVIEWS).status_code == 200
    assert client.get(reverse("home")).status_code == 200


@FUZZ
@given(
    date_of_complaint=days,
    category=numbers,
    product=numbers,
    version=numbers,
    amount=numbers,
    assignee=numbers,
)
def test_no_date_or_number_in_the_complaint_forms_is_a_server_error(
    date_of_complaint, category, product, version, amount, assignee, csr, manager
):
    client = signed_in(manager)
    complaint = Complaint.objects.filter(logged_by=csr).first() or factories.complaint(csr)
    data = {k: getattr(v, "pk", v) for k, v in factories.complaint_data().items() if v is not None}
    data.update(date_of_complaint=date_of_complaint, category=category, product=product)
    response = client.post(reverse("complaints:create"), data)
    assert response.status_code in (200, 302, 400), response.status_code
    response = client.post(
        reverse("complaints:edit", args=[complaint.pk]), {**data, "version": version}
    )
    assert response.status_code in (200, 302, 400, 409), response.status_code
    action = reverse("complaints:action", args=[complaint.pk, "assign"])
    assert client.post(action, {"assignee": assignee}).status_code in (302, 400)
    propose = reverse("complaints:action", args=[complaint.pk, "propose"])
    response = client.post(
        propose,
        {"type": "refund", "amount": amount, "description": "x", "expected_stage": "received"},
    )
    assert response.status_code in (302, 400), response.status_code
