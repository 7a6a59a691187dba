"""The complaint list: search (reference, name, email, phone, full text), filters, sorting,
paging, visibility, and the CSV export of the same rows, made safe for spreadsheets."""

import csv
import io
import re
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from complaints import services
from complaints.models import Complaint
from complaints.web.lists import CSV_COLUMNS
from tests import factories

pytestmark = pytest.mark.django_db

LIST = reverse("complaints:list")
EXPORT = reverse("complaints:export")
ROW_REFERENCE = re.compile(r'<a href="/complaints/\d+/">(CMP-\d{4}-\d{6})</a>')
NEXT = re.compile(r'<a class="page-link" href="[^"]*page=(\d+)">Next</a>')


def received_ago(actor, hours_ago=0, **overrides):
    if hours_ago:
        day = timezone.localdate(timezone.now() - timedelta(hours=hours_ago))
        overrides.setdefault("date_of_complaint", day)
    return factories.complaint(actor, hours_ago=hours_ago, **overrides)


def taken(complaint, user):
    return services.complaint_assign(complaint, actor=user, assignee=user)


def client_for(user):
    client = Client()
    client.force_login(user)
    return client


def listed(client, **params):
    """References on the page, in order."""
    response = client.get(LIST, params)
    assert response.status_code == 200, params
    return ROW_REFERENCE.findall(response.content.decode())


def refs(*complaints):
    return [c.reference for c in complaints]


def exported(client, **params):
    response = client.get(EXPORT, params)
    assert response.status_code == 200, params
    body = b"".join(response.streaming_content).decode("utf-8")
    # A byte-order mark first, so Excel reads the file as UTF-8.
    assert body.startswith("\ufeff")
    return response, list(csv.reader(io.StringIO(body[1:], newline="")))


# Search -------------------------------------------------------------------------------------


@pytest.fixture
def people(csr, resolver, manager):
    """Three customers who differ in every field the search looks at."""
    priya = factories.complaint(csr)
    jonathan = factories.complaint(
        csr,
        customer_name="Jonathan Okafor",
        customer_email="Jon.Okafor@Example.com",
        customer_phone="+44 7700 900123",
        description="The parcel arrived damaged and nobody answered my emails.",
    )
    mei = factories.complaint(
        csr,
        customer_name="Mei Lin",
        customer_email="mei@example.org",
        customer_phone="020 7946 0000",
        description="Interest was added to my savings account late.",
    )
    return priya, jonathan, mei


def test_search_by_reference_is_exact_and_ignores_case(manager, people):
    priya, jonathan, _ = people
    client = client_for(manager)

    assert listed(client, q=jonathan.reference) == refs(jonathan)
    assert listed(client, q=f"  {jonathan.reference.lower()} ") == refs(jonathan)
    assert listed(client, q=priya.reference.title()) == refs(priya)
    # A prefix of a reference is not a reference.
    assert jonathan.reference not in listed(client, q=jonathan.reference[:-1])


def test_search_by_reference_finds_the_complaint_whatever_its_stage_and_other_filters(
    csr, resolver, manager
):
    closed = factories.complaint_at_stage("reviewed", csr=csr, resolver=resolver, manager=manager)
    client = client_for(manager)

    # The list's default is open complaints; a reference names one complaint regardless.
    assert listed(client, q=closed.reference) == refs(closed)
    assert listed(client, q=closed.reference.lower(), stage="all") == refs(closed)
    assert listed(client, q=f" {closed.reference} ", channel="phone", overdue="on") == refs(closed)


def test_a_reference_search_does_not_claim_the_other_filters(manager, people):
    _, jonathan, _ = people

    page = client_for(manager).get(LIST, {"q": jonathan.reference, "queue": "escalations"})

    assert ROW_REFERENCE.findall(page.content.decode()) == refs(jonathan)
    assert "Showing only" not in page.content.decode()


def test_reference_search_still_honours_visibility(csr, csr2, resolver, manager):
    closed = factories.complaint_at_stage("reviewed", csr=csr2, resolver=resolver, manager=manager)

    assert listed(client_for(csr), q=closed.reference) == []


def test_a_word_search_of_open_complaints_offers_all_stages(manager, people):
    response = client_for(manager).get(LIST, {"q": "Okafor"})

    assert "Search all stages, closed complaints too" in response.content.decode()


def test_search_by_customer_name_word(manager, people):
    _, jonathan, mei = people
    client = client_for(manager)

    assert listed(client, q="Okafor") == refs(jonathan)
    assert listed(client, q="okafor") == refs(jonathan)
    assert listed(client, q="jonathan okafor") == refs(jonathan)
    assert listed(client, q="Lin") == refs(mei)
    assert listed(client, q="Nobodyhere") == []


def test_search_by_email_ignores_case(manager, people):
    priya, jonathan, _ = people
    client = client_for(manager)

    assert listed(client, q="jon.okafor@example.com") == refs(jonathan)
    assert listed(client, q="JON.OKAFOR@EXAMPLE.COM") == refs(jonathan)
    assert listed(client, q="priya@example.com") == refs(priya)
    assert listed(client, q="okafor@example.com") == []


def test_search_by_phone_digits(manager, people):
    _, jonathan, mei = people
    client = client_for(manager)

    assert listed(client, q="447700900123") == refs(jonathan)
    assert listed(client, q="+44 7700 900123") == refs(jonathan)
    assert listed(client, q="44 7700 900 123") == refs(jonathan)
    assert listed(client, q="02079460000") == refs(mei)


def test_search_by_phone_in_national_format_or_by_its_last_digits(manager, people):
    _, jonathan, mei = people
    client = client_for(manager)

    # Stored with the country code, asked for as the customer says it.
    assert listed(client, q="07700 900123") == refs(jonathan)
    assert listed(client, q="0044 7700 900123") == refs(jonathan)
    assert listed(client, q="900123") == refs(jonathan)
    assert listed(client, q="946 0000") == refs(mei)
    assert listed(client, q="0 900123") == refs(jonathan)  # last digits that begin with 0
    assert listed(client, q="79460000") == refs(mei)
    assert listed(client, q="7700 900124") == []
    # Fewer than six digits is not a phone number; nobody is found by it.
    assert listed(client, q="0123") == []
    assert listed(client, q="000000") == []


def test_search_by_phone_with_brackets_and_dashes(manager, people):
    _, jonathan, _ = people

    assert listed(client_for(manager), q="+44 (7700) 900-123") == refs(jonathan)


def test_search_by_words_of_the_description_uses_full_text(manager, people):
    _, jonathan, mei = people
    client = client_for(manager)

    assert listed(client, q="parcel") == refs(jonathan)
    assert listed(client, q="DAMAGED parcel") == refs(jonathan)
    assert listed(client, q="savings") == refs(mei)
    assert listed(client, q="parcel savings") == []  # every word must match
    assert listed(client, q='"arrived damaged"') == refs(jonathan)
    # Operators and stray punctuation are text, never an error.
    for odd in ("parcel &| !", "'; drop table", "((", "-parcel", "a:*", "\\"):
        listed(client, q=odd)


# Filters ------------------------------------------------------------------------------------


def test_stage_filter_defaults_to_open(csr, resolver, manager):
    received = factories.complaint(csr)
    investigating = factories.complaint_at_stage(
        "investigating", csr=csr, resolver=resolver, manager=manager
    )
    reviewed = factories.complaint_at_stage("reviewed", csr=csr, resolver=resolver, manager=manager)
    client = client_for(manager)
    open_ones = sorted(refs(received, investigating))

    assert sorted(listed(client)) == open_ones
    assert sorted(listed(client, stage="open")) == open_ones
    assert sorted(listed(client, stage="")) == open_ones
    assert sorted(listed(client, stage="all")) == sorted(refs(received, investigating, reviewed))
    assert listed(client, stage="reviewed") == refs(reviewed)
    assert listed(client, stage="investigating") == refs(investigating)
    assert listed(client, stage="received") == refs(received)


def test_filter_by_category_and_channel(csr, manager):
    billing = factories.complaint(csr, category=factories.category("Billing"), channel="email")
    delivery = factories.complaint(csr, category=factories.category("Delivery"), channel="phone")
    client = client_for(manager)

    assert listed(client, category=billing.category_id) == refs(billing)
    assert listed(client, category=delivery.category_id) == refs(delivery)
    assert listed(client, channel="email") == refs(billing)
    assert listed(client, channel="phone", category=billing.category_id) == []


def test_filter_by_assignee(csr, csr2, manager):
    unassigned = factories.complaint(csr)
    csrs = taken(factories.complaint(csr), csr)
    colleagues = taken(factories.complaint(csr2), csr2)
    managers = taken(factories.complaint(csr), manager)

    assert listed(client_for(csr), assignee="me") == refs(csrs)
    assert listed(client_for(manager), assignee="me") == refs(managers)
    assert listed(client_for(manager), assignee="none") == refs(unassigned)
    assert listed(client_for(manager), assignee=str(csr2.pk)) == refs(colleagues)
    assert listed(client_for(manager), assignee=str(csr.pk)) == refs(csrs)


def test_filter_by_escalation(csr, manager):
    to_team = services.complaint_escalate(
        factories.complaint(csr), actor=csr, level="team", reason="Specialist"
    )
    to_managers = services.complaint_escalate(
        factories.complaint(csr), actor=csr, level="manager", reason="Ombudsman"
    )
    factories.complaint(csr)
    client = client_for(manager)

    assert listed(client, escalated="team") == refs(to_team)
    assert listed(client, escalated="manager") == refs(to_managers)
    assert len(listed(client, escalated="")) == 3


def test_filter_overdue(csr, resolver, manager):
    overdue = received_ago(csr, hours_ago=25)
    received_ago(csr, hours_ago=23)
    factories.complaint_at_stage("acknowledged", csr=csr, resolver=resolver, manager=manager)
    client = client_for(manager)

    assert listed(client, overdue="on") == refs(overdue)
    assert len(listed(client)) == 3


def test_filter_by_received_date_range(csr, manager):
    today = timezone.localdate()
    ten_days = received_ago(csr, hours_ago=240)
    three_days = received_ago(csr, hours_ago=72)
    now = factories.complaint(csr)
    day_of = lambda c: timezone.localdate(c.received_at).isoformat()  # noqa: E731
    client = client_for(manager)

    window = {"received_from": (today - timedelta(5)).isoformat()}
    window["received_to"] = (today - timedelta(1)).isoformat()
    assert listed(client, **window) == refs(three_days)
    # Both ends are whole days, included.
    assert listed(client, received_from=day_of(three_days), received_to=day_of(three_days)) == (
        refs(three_days)
    )
    assert sorted(listed(client, received_from=day_of(three_days))) == sorted(refs(three_days, now))
    assert listed(client, received_to=day_of(ten_days)) == refs(ten_days)


# Sorting, garbage, paging ---------------------------------------------------------------------


@pytest.fixture
def three(csr):
    """Received 1 h, 10 h and 5 h ago: deadline order is 10 h, 5 h, 1 h."""
    return (
        received_ago(csr, hours_ago=1, customer_name="Zoe Adams"),
        received_ago(csr, hours_ago=10, customer_name="Amir Khan"),
        received_ago(csr, hours_ago=5, customer_name="Mary Jones"),
    )


def test_default_order_is_next_deadline(manager, three):
    one, ten, five = three

    assert listed(client_for(manager)) == refs(ten, five, one)


@pytest.mark.parametrize("key", ["password", "-customer_email", "customer_token", "?", "id;"])
def test_unknown_sort_key_falls_back_to_deadline_order(manager, three, key):
    one, ten, five = three

    assert listed(client_for(manager), sort=key) == refs(ten, five, one)


def test_known_sort_keys_work(manager, three):
    one, ten, five = three
    client = client_for(manager)

    assert listed(client, sort="customer") == refs(ten, five, one)  # Amir, Mary, Zoe
    assert listed(client, sort="-received") == refs(one, five, ten)
    assert listed(client, sort="received") == refs(ten, five, one)
    assert listed(client, sort="reference") == refs(one, ten, five)


GARBAGE = [
    {"category": "abc"},
    {"category": "99999999999999999999"},
    {"category": "-1"},
    {"received_from": "notadate"},
    {"received_to": "2024-13-45"},
    {"received_from": "2024-01-01", "received_to": "2023-01-01"},
    {"page": "-5"},
    {"page": "abc"},
    {"page": "0"},
    {"page": "99999999999999999999"},
    {"page": "1.5"},
    {"stage": "bogus"},
    {"channel": "fax"},
    {"escalated": "ceo"},
    {"assignee": "abc"},
    {"assignee": "99999999999999999999"},
    {"assignee": "-3"},
    {"overdue": "maybe"},
    {"q": "x\x00y"},
    {"q": "%"},
    {"q": "x" * 5000},
    {"sort": "password"},
    {"received_from": "0001-01-01"},
    {"received_to": "0001-01-01"},
    {"received_from": "9999-12-31"},
    {"assignee": "٣"},
    {"category": "1.5"},
    {"q": "٣٣٣٣٣٣٣"},
    {"q": "@"},
    {"q": "   "},
]


def test_garbage_filter_values_are_ignored(manager, three):
    client = client_for(manager)
    everything = listed(client)
    errors = []
    for params in GARBAGE:
        response = client.get(LIST, params)
        export = client.get(EXPORT, params)
        if export.status_code == 200:
            b"".join(export.streaming_content)
        if (response.status_code, export.status_code) != (200, 200):
            errors.append((params, response.status_code, export.status_code))

    assert errors == []
    # An unusable value filters nothing out.
    assert listed(client, category="abc", received_from="notadate") == everything


def test_ignored_garbage_leaves_the_other_filters_working(manager, csr):
    email = factories.complaint(csr, channel="email")
    factories.complaint(csr, channel="phone")

    assert listed(
        client_for(manager), channel="email", category="abc", received_from="notadate", page="x"
    ) == refs(email)


def test_superscript_digit_assignee_is_ignored(manager, three):
    assert client_for(manager).get(LIST, {"assignee": "²"}).status_code == 200


def test_last_representable_date_is_not_a_server_error(manager, three):
    assert client_for(manager).get(LIST, {"received_to": "9999-12-31"}).status_code == 200


def test_thirty_complaints_make_two_pages(csr, manager):
    made = [factories.complaint(csr, customer_name=f"Customer {i:02d}") for i in range(25)]
    client = client_for(manager)
    exactly_one_page = client.get(LIST).content.decode()
    assert len(ROW_REFERENCE.findall(exactly_one_page)) == 25
    assert NEXT.findall(exactly_one_page) == []
    made += [factories.complaint(csr, customer_name=f"Customer {i:02d}") for i in range(25, 30)]

    first = client.get(LIST, {"sort": "customer"}).content.decode()
    second = client.get(LIST, {"sort": "customer", "page": 2}).content.decode()

    assert ROW_REFERENCE.findall(first) == refs(*made[:25])
    assert NEXT.findall(first) == ["2"]
    assert "sort=customer" in re.search(r'href="([^"]*)">Next', first).group(1)
    assert ROW_REFERENCE.findall(second) == refs(*made[25:])
    assert NEXT.findall(second) == []
    assert ">Previous</a>" in second
    assert ROW_REFERENCE.findall(client.get(LIST, {"page": 3}).content.decode()) == []


# Visibility -----------------------------------------------------------------------------------


@pytest.fixture
def shared(csr, csr2):
    """An unassigned complaint, csr's own, csr2's own, and one escalated to the team."""
    unassigned = factories.complaint(csr2, customer_name="Ada Unassigned")
    csrs = taken(factories.complaint(csr, customer_name="Bob Csr"), csr)
    colleagues = taken(
        factories.complaint(
            csr2,
            customer_name="Cleo Colleague",
            customer_email="cleo@example.com",
            customer_phone="07700 900555",
        ),
        csr2,
    )
    to_team = services.complaint_escalate(
        taken(factories.complaint(csr2, customer_name="Dan Team"), csr2),
        actor=csr2,
        level="team",
        reason="Specialist",
    )
    return unassigned, csrs, colleagues, to_team


def test_csr_list_never_includes_a_colleagues_complaint(csr, shared):
    unassigned, csrs, colleagues, to_team = shared
    client = client_for(csr)

    assert sorted(listed(client, stage="all")) == sorted(refs(unassigned, csrs))
    for query in (colleagues.reference, colleagues.reference.lower(), "Cleo", "cleo@example.com"):
        assert listed(client, q=query, stage="all") == []
        assert "Cleo Colleague" not in client.get(LIST, {"q": query}).content.decode()
    assert listed(client, assignee=str(colleagues.assignee_id), stage="all") == []
    assert listed(client, q=to_team.reference, stage="all") == []


def test_resolver_list_never_includes_unescalated_complaints(resolver, shared):
    unassigned, csrs, colleagues, to_team = shared
    client = client_for(resolver)

    assert listed(client, stage="all") == refs(to_team)
    for hidden in (unassigned, csrs, colleagues):
        assert listed(client, q=hidden.reference, stage="all") == []


def test_manager_list_includes_everything(manager, shared):
    assert sorted(listed(client_for(manager), stage="all")) == sorted(refs(*shared))


# Export -------------------------------------------------------------------------------------


def test_export_of_a_filtered_list(csr, manager):
    emailed = [factories.complaint(csr, channel="email") for _ in range(3)]
    factories.complaint(csr, channel="phone")

    response, rows = exported(client_for(manager), channel="email")

    assert response["Content-Type"].startswith("text/csv")
    disposition = response["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert re.search(r'filename="complaints-\d{8}-\d{4}\.csv"', disposition)
    assert rows[0] == [label for label, _ in CSV_COLUMNS]
    assert sorted(row[0] for row in rows[1:]) == sorted(refs(*emailed))
    assert all(row[CSV_COLUMNS.index(("Channel", "channel"))] == "Email" for row in rows[1:])
    assert all(len(row) == len(CSV_COLUMNS) for row in rows)


def test_export_writes_the_columns_of_each_complaint(csr, manager):
    complaint = taken(
        factories.complaint(
            csr,
            customer_name="Jonathan Okafor",
            customer_email="jon@example.com",
            customer_phone="020 7946 0000",
            product=None,
        ),
        csr,
    )

    _, rows = exported(client_for(manager))
    row = dict(zip(rows[0], rows[1], strict=True))

    assert row["Reference"] == complaint.reference
    assert row["Stage"] == "Received"
    assert row["Escalated to"] == "Not escalated"
    assert row["Acknowledged late by (hours)"] == ""
    assert row["Customer"] == "Jonathan Okafor"
    assert row["Email"] == "jon@example.com"
    assert row["Phone"] == "020 7946 0000"
    assert row["Category"] == complaint.category.name
    assert row["Product"] == ""
    assert row["Assignee"] == "csr"
    assert row["Acknowledged"] == ""
    assert row["Received"] == timezone.localtime(complaint.received_at).strftime("%Y-%m-%d %H:%M")
    assert row["Resolution target"] == complaint.resolution_target_date.isoformat()


def test_export_says_how_late_an_acknowledgment_was_and_uses_labels(csr, manager):
    complaint = services.complaint_escalate(
        factories.complaint(csr, channel="phone"), actor=csr, level="manager", reason="Ombudsman"
    )
    Complaint.objects.filter(pk=complaint.pk).update(
        acknowledged_at=complaint.acknowledgment_due_at + timedelta(hours=3, minutes=30),
        acknowledgment_method="phone",
    )

    _, rows = exported(client_for(manager))
    row = dict(zip(rows[0], rows[1], strict=True))

    assert row["Acknowledged late by (hours)"] == "3.5"
    assert row["Escalated to"] == "Managers"
    assert row["Channel"] == "Phone"


def test_export_neutralises_formulas(csr, manager):
    dangerous = ["+cmd", "@SUM(1)", "-2+3", "\tx", "\rx", '=HYPERLINK("http://y")']
    formula_name = factories.complaint(
        csr, customer_name='=HYPERLINK("http://x")', description="+cmd"
    )
    for text in dangerous[1:]:
        factories.complaint(csr, description=text)
    harmless = factories.complaint(csr, customer_name="Ann O'Neil", description="Fine, 'quoted'")

    _, rows = exported(client_for(manager), stage="all", sort="reference")
    by_reference = {row[0]: dict(zip(rows[0], row, strict=True)) for row in rows[1:]}

    assert by_reference[formula_name.reference]["Customer"] == '\'=HYPERLINK("http://x")'
    descriptions = sorted(row["Description"] for row in by_reference.values())
    assert descriptions == sorted(["'" + text for text in dangerous] + ["Fine, 'quoted'"])
    assert by_reference[harmless.reference]["Customer"] == "Ann O'Neil"
    for row in rows[1:]:
        for cell in row:
            assert not cell or cell[0] not in "=+-@\t\r", row


def test_export_honours_visibility(csr, resolver, shared):
    unassigned, csrs, colleagues, to_team = shared

    _, csr_rows = exported(client_for(csr), stage="all")
    _, csr_search = exported(client_for(csr), q=colleagues.reference, stage="all")
    _, resolver_rows = exported(client_for(resolver), stage="all")

    assert sorted(row[0] for row in csr_rows[1:]) == sorted(refs(unassigned, csrs))
    assert csr_search[1:] == []
    assert [row[0] for row in resolver_rows[1:]] == refs(to_team)


# Access -------------------------------------------------------------------------------------


def test_outsider_is_refused_list_and_export(outsider, shared):
    client = client_for(outsider)

    assert client.get(LIST).status_code == 403
    assert client.get(EXPORT).status_code == 403
    assert client.get(EXPORT, {"stage": "all"}).status_code == 403


def test_anonymous_is_sent_to_sign_in(shared):
    client = Client()

    for url in (LIST, EXPORT, f"{LIST}?q=Cleo"):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login") + "?next=")


@pytest.mark.parametrize("sort", ["deadline", "-received"])
@pytest.mark.parametrize("rows", [0, 10**9])
def test_a_word_search_shows_the_same_order_whether_it_walks_the_order_index_or_sorts(
    manager, csr, monkeypatch, sort, rows
):
    """A rare word's matches are sorted, a common word's read in order from the order's
    index (selectors.lists._few_matches): the page is the same either way."""
    open_late = received_ago(csr, hours_ago=2, description="A parcel went missing.")
    open_soon = received_ago(csr, hours_ago=30, description="A parcel went missing.")
    closed = received_ago(csr, hours_ago=50, description="A parcel went missing.")
    Complaint.objects.filter(pk=closed.pk).update(next_deadline_at=None)
    monkeypatch.setattr("complaints.selectors.lists._complaint_rows", lambda: rows)
    shown = listed(client_for(manager), q="parcel", stage="all", sort=sort)
    if sort == "deadline":
        assert shown == refs(open_soon, open_late, closed)  # no deadline: last
    else:
        assert shown == refs(open_late, open_soon, closed)
