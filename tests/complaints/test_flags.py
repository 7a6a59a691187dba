"""Vulnerable customer and financial hardship flags: one way in (flag_set, flag_clear, or
intake), with who, why and when; staff see them on the case, its timeline and every queue
row, where flagged open cases come first; customers never see them."""

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from complaints import selectors, services
from complaints.models import CaseFlag, Complaint, MessageStatus, OutboundMessage
from complaints.workflow import Refused
from tests import factories
from tests.complaints.test_customer_link import token_of, url
from tests.complaints.test_public_form import FORM, address, form_data  # noqa: F401
from tests.complaints.test_queues import client_for, home_html, queues, received_ago, taken

pytestmark = pytest.mark.django_db

REASON = "Recently bereaved; prefers calls in the afternoon. REASON-5521"
CREATE = reverse("complaints:create")


def history_reasons(complaint):
    return list(
        complaint.history.order_by("history_id").values_list("history_change_reason", flat=True)
    )


# The services ---------------------------------------------------------------------------


def test_a_flag_records_who_why_and_when_and_the_complaint_keeps_its_column(csr):
    complaint = factories.complaint(csr, assignee=None)

    flag = services.flag_set(complaint, "vulnerable", actor=csr, reason=f"  {REASON} ")

    complaint.refresh_from_db()
    assert complaint.vulnerable and not complaint.hardship
    assert (flag.kind, flag.reason, flag.set_by, flag.cleared_at) == (
        "vulnerable",
        REASON,
        csr,
        None,
    )
    assert flag.set_at is not None
    assert history_reasons(complaint)[-1] == "Flagged: vulnerable customer"
    assert complaint.history.order_by("-history_id").first().history_user == csr


def test_clearing_keeps_the_flag_on_record_with_who_and_why(csr, manager):
    complaint = factories.complaint(csr)
    services.flag_set(complaint, "hardship", actor=csr, reason="Lost their job in March.")

    services.flag_clear(complaint, "hardship", actor=manager, reason="Back in work; told us so.")

    complaint.refresh_from_db()
    assert not complaint.hardship
    flag = CaseFlag.objects.get(complaint=complaint)
    assert (flag.cleared_by, flag.clear_reason) == (manager, "Back in work; told us so.")
    assert flag.cleared_at >= flag.set_at
    assert history_reasons(complaint)[-1] == "Flag cleared: financial hardship"
    # Set again later: a second flag, the first still on record.
    services.flag_set(complaint, "hardship", actor=csr, reason="Lost their job again.")
    assert CaseFlag.objects.filter(complaint=complaint).count() == 2


@pytest.mark.parametrize(
    ("kind", "reason", "message"),
    [
        ("vulnerable", "   ", "Say why the flag is set."),
        ("vulnerable", "x" * 2001, "Keep the reason within 2000 characters."),
        ("urgent", "Because", "There is no 'urgent' flag: say vulnerable or hardship."),
    ],
)
def test_bad_input_is_refused_with_a_clear_message_and_changes_nothing(csr, kind, reason, message):
    complaint = factories.complaint(csr)
    versions = complaint.history.count()

    with pytest.raises(Refused, match=re.escape(message)):
        services.flag_set(complaint, kind, actor=csr, reason=reason)

    complaint.refresh_from_db()
    assert not complaint.vulnerable
    assert not CaseFlag.objects.exists()
    assert complaint.history.count() == versions


def test_a_flag_is_set_once_and_cleared_once(csr):
    complaint = factories.complaint(csr)
    with pytest.raises(Refused, match="not flagged: vulnerable customer"):
        services.flag_clear(complaint, "vulnerable", actor=csr, reason="Wrong case")
    services.flag_set(complaint, "vulnerable", actor=csr, reason=REASON)

    with pytest.raises(Refused, match="already flagged: vulnerable customer"):
        services.flag_set(complaint, "vulnerable", actor=csr, reason="Again")
    with pytest.raises(Refused, match="Say why the flag is cleared."):
        services.flag_clear(complaint, "vulnerable", actor=csr, reason="")

    assert CaseFlag.objects.filter(complaint=complaint).count() == 1


def test_the_database_holds_one_live_flag_per_kind_and_a_reason_for_each_clearing(csr):
    complaint = factories.complaint(csr)
    services.flag_set(complaint, "vulnerable", actor=csr, reason=REASON)
    flag = CaseFlag.objects.get()
    with pytest.raises(IntegrityError), transaction.atomic():
        CaseFlag.objects.create(
            complaint=complaint, kind="vulnerable", reason="x", set_at=flag.set_at
        )
    with pytest.raises(IntegrityError), transaction.atomic():
        CaseFlag.objects.filter(pk=flag.pk).update(cleared_at=flag.set_at)


def test_only_staff_who_can_work_the_case_flag_it(csr, csr2, resolver, manager, outsider):
    mine = factories.complaint(csr, assignee=None)
    taken(mine, csr)
    for person in (csr2, resolver, outsider):
        with pytest.raises(Refused):
            services.flag_set(mine, "vulnerable", actor=person, reason=REASON)
    assert not CaseFlag.objects.exists()
    services.flag_set(mine, "vulnerable", actor=manager, reason=REASON)
    services.flag_clear(mine, "vulnerable", actor=csr, reason="Recorded on the wrong case.")


def test_a_documented_case_can_be_flagged_a_closed_one_cannot(csr, resolver, manager):
    documented = factories.complaint_at_stage(
        "documented", csr=csr, resolver=resolver, manager=manager
    )
    services.flag_set(documented, "hardship", actor=manager, reason="Arrears on the account.")
    closed = factories.complaint_at_stage("reviewed", csr=csr, resolver=resolver, manager=manager)

    with pytest.raises(Refused):
        services.flag_set(closed, "hardship", actor=manager, reason="Arrears on the account.")


# Intake ---------------------------------------------------------------------------------


def test_a_complaint_logged_with_flags_has_them_from_its_first_version(csr):
    complaint = services.complaint_create(
        actor=csr,
        data=factories.complaint_data(),
        flags={"vulnerable": REASON, "hardship": "Cannot pay the arrears."},
    )

    assert complaint.vulnerable and complaint.hardship
    first = complaint.history.get()
    assert (first.vulnerable, first.hardship, first.history_change_reason) == (True, True, "Logged")
    flags = {flag.kind: flag for flag in CaseFlag.objects.filter(complaint=complaint)}
    assert flags["vulnerable"].reason == REASON
    assert {flag.set_by for flag in flags.values()} == {csr}
    assert {flag.set_at for flag in flags.values()} == {complaint.received_at}


def test_a_flag_without_a_reason_at_intake_logs_nothing(csr):
    with pytest.raises(Refused, match="Say why the flag is set."):
        services.complaint_create(
            actor=csr, data=factories.complaint_data(), flags={"hardship": " "}
        )

    assert not Complaint.objects.exists()
    assert not OutboundMessage.objects.exists()


def intake_form(**overrides):
    return {
        "channel": "phone",
        "customer_name": "Priya Shah",
        "customer_email": "",
        "customer_phone": "07700 900123",
        "date_of_complaint": factories.complaint_data()["date_of_complaint"].isoformat(),
        "category": factories.category().pk,
        "product": factories.product().pk,
        "complexity": "standard",
        "description": "I was charged twice for one purchase.",
        **overrides,
    }


def test_the_staff_intake_form_flags_the_case(csr):
    client = client_for(csr)
    response = client.post(
        CREATE, intake_form(vulnerable="on", vulnerable_reason=REASON, assign_to_me="on")
    )

    complaint = Complaint.objects.get()
    assert response.status_code == 302
    assert complaint.vulnerable and not complaint.hardship
    assert CaseFlag.objects.get().reason == REASON


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({"hardship": "on"}, "Say why the case is flagged."),
        ({"hardship_reason": "Arrears"}, "Tick this to flag the case, or leave the reason empty."),
    ],
)
def test_the_intake_form_wants_a_tick_and_a_reason_together(csr, fields, error):
    response = client_for(csr).post(CREATE, intake_form(**fields))

    assert response.status_code == 400
    assert error in response.content.decode()
    assert not Complaint.objects.exists()


def test_the_api_logs_a_flagged_complaint_and_shows_its_flags(csr):
    client = client_for(csr)
    body = {
        "channel": "phone",
        "customer_name": "Priya Shah",
        "customer_phone": "07700 900123",
        "date_of_complaint": intake_form()["date_of_complaint"],
        "category": factories.category().pk,
        "description": "Charged twice.",
        "hardship_reason": "Cannot pay the arrears.",
        "vulnerable_reason": "",
    }

    response = client.post("/api/v1/complaints/", body, content_type="application/json")

    assert response.status_code == 201, response.content
    data = response.json()
    assert (data["vulnerable"], data["hardship"]) == (False, True)
    [flag] = data["flags"]
    assert (flag["kind"], flag["reason"], flag["set_by"]["id"]) == (
        "hardship",
        "Cannot pay the arrears.",
        csr.pk,
    )
    listed = client.get("/api/v1/complaints/").json()["results"]
    assert [(row["vulnerable"], row["hardship"]) for row in listed] == [(False, True)]


# The customer: asks for support, never sees a flag ----------------------------------------


def test_the_public_form_request_for_extra_support_flags_the_case_in_the_customers_words(
    client,
    address,  # noqa: F811
):
    words = "I have dyslexia; please phone rather than write."
    response = client.post(FORM, form_data(support_needs=f" {words} "), follow=True)

    assert response.status_code == 200
    complaint = Complaint.objects.get()
    assert complaint.vulnerable and not complaint.hardship
    flag = CaseFlag.objects.get()
    assert (flag.kind, flag.reason, flag.set_by) == ("vulnerable", words, None)
    for text in (words, "vulnerable", "Vulnerable"):
        assert text not in response.content.decode()


def test_the_public_form_without_the_question_answered_flags_nothing(
    client,
    address,  # noqa: F811
):
    client.post(FORM, form_data())

    assert not Complaint.objects.get().vulnerable
    assert not CaseFlag.objects.exists()


def test_the_customer_never_sees_a_flag_on_their_pages_or_in_their_emails(
    client, csr, resolver, manager
):
    complaint = factories.complaint_at_stage(
        "resolved", csr=csr, resolver=resolver, manager=manager, customer_email="priya@example.com"
    )
    services.flag_set(complaint, "vulnerable", actor=csr, reason=REASON)
    services.flag_set(complaint, "hardship", actor=csr, reason="HARDSHIP-REASON-3301")
    for message in OutboundMessage.objects.exclude(status=MessageStatus.SENT):
        services.message_deliver(message.pk)

    page = client.get(url("status", token_of(complaint))).content.decode()

    to_customer = [m for m in OutboundMessage.objects.filter(to_customer=True)]
    assert to_customer
    texts = [page] + [m.subject + m.body_text + m.body_html for m in to_customer]
    texts += [m.body for m in mail.outbox] + [m.subject for m in mail.outbox]
    for text in texts:
        for secret in ("REASON-5521", "HARDSHIP-REASON-3301", "ulnerable", "ardship"):
            assert secret not in text


# Staff pages ----------------------------------------------------------------------------


def test_the_case_page_shows_the_live_flags_and_sets_and_clears_them(csr):
    complaint = factories.complaint(csr)
    taken(complaint, csr)
    client = client_for(csr)
    detail = reverse("complaints:detail", args=[complaint.pk])
    page = client.get(detail).content.decode()
    assert "Flag a vulnerable customer or hardship" in page
    assert "Support needs" not in page

    response = client.post(
        reverse("complaints:action", args=[complaint.pk, "flag"]),
        {"kind": "vulnerable", "reason": REASON},
        follow=True,
    )

    page = response.content.decode()
    assert "Flag set." in page
    assert "Support needs" in page
    assert "REASON-5521" in page
    assert "flagged by Csr" in page
    assert 'badge text-bg-dark fs-6">Vulnerable customer' in page

    response = client.post(
        reverse("complaints:action", args=[complaint.pk, "clear_flag"]),
        {"kind": "vulnerable", "reason": "Recorded on the wrong case."},
        follow=True,
    )

    page = response.content.decode()
    assert "Flag cleared." in page
    assert "Support needs" not in page
    # The timeline keeps both, with their reasons.
    assert "Flagged: vulnerable customer" in page
    assert "Flag cleared: vulnerable customer" in page
    assert "Recorded on the wrong case." in page


def test_a_flag_posted_without_a_reason_is_refused_and_changes_nothing(csr):
    complaint = factories.complaint(csr)
    taken(complaint, csr)

    response = client_for(csr).post(
        reverse("complaints:action", args=[complaint.pk, "flag"]), {"kind": "vulnerable"}
    )

    assert response.status_code == 400
    assert not CaseFlag.objects.exists()


def test_the_timeline_tells_who_flagged_and_why_and_the_customers_own_request(csr):
    complaint = services.complaint_create(
        actor=None, data=factories.complaint_data(channel="web"), flags={"vulnerable": "Deaf."}
    )
    services.flag_clear(complaint, "vulnerable", actor=csr, reason="Asked us to remove it.")

    entries = [
        (entry.title, entry.actor, entry.body)
        for entry in selectors.complaint_timeline(complaint)
        if entry.kind == "flag"
    ]

    assert entries == [
        ("Flagged: vulnerable customer", "Customer", "Deaf."),
        ("Flag cleared: vulnerable customer", str(csr), "Asked us to remove it."),
    ]
    # The flag's own entries say it: no field change repeats it.
    assert not any(
        "ulnerable" in str(change)
        for entry in selectors.complaint_timeline(complaint)
        for change in entry.changes
    )


# Queues ---------------------------------------------------------------------------------


def test_flagged_open_cases_lead_each_queue_with_a_badge_then_the_rest_by_deadline(csr, manager):
    oldest = received_ago(csr, hours_ago=20)
    older = received_ago(csr, hours_ago=10)
    flagged_late = received_ago(csr, hours_ago=1)
    flagged_early = received_ago(csr, hours_ago=2)
    services.flag_set(flagged_late, "vulnerable", actor=csr, reason=REASON)
    services.flag_set(flagged_early, "hardship", actor=csr, reason="Arrears.")

    html = home_html(csr)

    expected = [c.reference for c in (flagged_early, flagged_late, oldest, older)]
    assert queues(html)["Intake queue"] == expected
    assert (
        '<span class="badge text-bg-dark" title="Flagged: hardship; see the case">hardship' in html
    )
    assert html.count("Flagged: vulnerable; see the case") == 1
    for complaint in (oldest, older, flagged_late, flagged_early):
        taken(complaint, csr)
    assert queues(home_html(csr))["My complaints"] == expected


def test_flagged_cases_come_before_those_new_for_the_user(csr, csr2):
    plain = received_ago(csr, hours_ago=5)
    new = received_ago(csr, hours_ago=4)
    flagged = received_ago(csr, hours_ago=1)
    services.flag_set(flagged, "vulnerable", actor=csr, reason=REASON)
    services.signal_raise(new, "assigned", for_user=csr2)

    assert queues(home_html(csr2))["Intake queue"] == [
        flagged.reference,
        new.reference,
        plain.reference,
    ]


def test_a_cleared_flag_puts_the_case_back_in_deadline_order(csr):
    earlier = received_ago(csr, hours_ago=5)
    later = received_ago(csr, hours_ago=1)
    services.flag_set(later, "vulnerable", actor=csr, reason=REASON)
    services.flag_clear(later, "vulnerable", actor=csr, reason="Wrong case.")

    assert queues(home_html(csr))["Intake queue"] == [earlier.reference, later.reference]


def copies_of(complaint, count, **columns):
    """`count` copies of `complaint` in one INSERT ... SELECT, numbered n = 1..count, each
    column in `columns` an SQL expression of n: thousands of rows in a moment."""
    table = Complaint._meta.db_table
    columns = {"reference": "'COPY-' || n", "customer_token": "md5(n::text)", **columns}
    names = [f.column for f in Complaint._meta.concrete_fields if f.column != "id"]
    quoted = ", ".join(connection.ops.quote_name(name) for name in names)
    values = ", ".join(columns.get(name, connection.ops.quote_name(name)) for name in names)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} ({quoted}) SELECT {values} "  # noqa: S608  (the model's columns)
            f"FROM {table}, generate_series(1, %s) n WHERE id = %s",
            [count, complaint.pk],
        )
        cursor.execute(f"ANALYZE {table}")


def plan(queryset):
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN {sql}", params)
        return "\n".join(row[0] for row in cursor.fetchall())


def test_each_part_of_a_queue_is_read_from_an_index_in_order_not_sorted(csr, csr2, manager):
    """30,000 complaints, half closed, a few dozen flagged: the part of a queue to lift
    (flagged or new) is found through complaint_flagged_queue and the primary key, and the
    rest is read from an index in the queue's order and stops: only the few lifted rows are
    sorted, never the queue."""
    seed = factories.complaint(csr)
    copies_of(
        seed,
        30_000,
        assignee_id=f"CASE mod(n, 3) WHEN 0 THEN {csr.pk} WHEN 1 THEN {csr2.pk} END",
        stage="CASE WHEN mod(n, 10) < 5 THEN 'reviewed' WHEN mod(n, 10) = 5 THEN 'documented' "
        "ELSE 'investigating' END",
        closed_at="CASE WHEN mod(n, 10) < 5 THEN now() END",
        documented_at="CASE WHEN mod(n, 10) = 5 THEN now() - n * interval '1 minute' END",
        acknowledged_at="received_at",
        acknowledgment_method="'phone'",
        next_deadline_at="CASE WHEN mod(n, 10) > 5 THEN now() + n * interval '1 minute' END",
        vulnerable="mod(n, 997) = 0",
        hardship="mod(n, 1499) = 0",
    )
    new = list(Complaint.objects.order_by("-id").values_list("id", flat=True)[:10])
    queues_read = {
        "intake": selectors.complaints_intake_queue(csr),
        "mine": selectors.complaints_assigned_to(csr),
        "escalations": selectors.complaints_escalation_queue(manager),
        "sign-off": selectors.complaints_awaiting_sign_off(manager),
    }
    for name, queue in queues_read.items():
        order = selectors.SIGN_OFF_ORDER if name == "sign-off" else ("next_deadline_at", "id")
        with CaptureQueriesContext(connection) as queries:
            selectors.queue_first_rows(queue.order_by(*order), 26, new)
        plans = []
        for query in queries.captured_queries:
            with connection.cursor() as cursor:
                cursor.execute(f"EXPLAIN {query['sql']}")
                plans.append("\n".join(row[0] for row in cursor.fetchall()))
        lifted, rest = plans

        assert "Bitmap Index Scan on complaint_flagged_queue" in lifted, (name, lifted)
        walked = r"^Limit .*\n\s+->  Index Scan using \w+ on complaints_complaint"
        assert re.search(walked, rest), (name, rest)


@pytest.mark.parametrize("limit", [2, 4, 7, 20])
def test_a_queue_lists_flagged_then_new_then_the_rest_each_in_deadline_order(csr, limit):
    """Nine unassigned cases, their deadlines an hour apart, shuffled against the flags and
    what is new: whatever the page's length, flagged first, then new, then the rest, each in
    deadline order, every case once."""
    made = [factories.complaint(csr) for _ in range(9)]
    start = timezone.now()
    for hours, complaint in zip([5, 2, 8, 0, 7, 3, 1, 6, 4], made, strict=True):
        Complaint.objects.filter(pk=complaint.pk).update(
            next_deadline_at=start + timedelta(hours=hours)
        )
    Complaint.objects.filter(pk__in=[made[2].pk, made[6].pk]).update(vulnerable=True)
    Complaint.objects.filter(pk=made[4].pk).update(hardship=True)
    new = [made[0].pk, made[6].pk, made[8].pk]  # made[6] is flagged as well
    queue = selectors.complaints_intake_queue(csr).order_by("next_deadline_at", "id")

    first = selectors.queue_first_rows(queue, limit, new)

    everything = sorted(
        Complaint.objects.filter(pk__in=[c.pk for c in made]),
        key=lambda c: (not (c.vulnerable or c.hardship), c.pk not in new, c.next_deadline_at),
    )
    assert [c.pk for c in first] == [c.pk for c in everything][:limit]
