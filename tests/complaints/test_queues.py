"""The home page: each role's queues hold exactly the complaints that role may see and act
on, in deadline order, with the countdowns, the one-click Take, the manager's escalation
queue, workload and dashboard, and a bounded number of queries however many complaints exist.
"""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from complaints import selectors, services
from complaints.clocks import sweeps
from complaints.imports import import_user
from complaints.models import Complaint
from tests import factories

pytestmark = pytest.mark.django_db

HOME = "/"
EMPTY = "No complaints waiting. Nice work."
SECTION = re.compile(r'<section class="card mb-3" aria-labelledby="([^"]+)">(.*?)</section>', re.S)
TITLE = re.compile(r"<h2[^>]*>(.*?)</h2>", re.S)
ROW = re.compile(r"<tr[^>]*>(.*?)</tr>", re.S)
ROW_REFERENCE = re.compile(r'<a href="/complaints/\d+/">(CMP-\d{4}-\d{6})</a>')
TAG = re.compile(r"<[^>]+>")


# Helpers ------------------------------------------------------------------------------------


def received_ago(actor, hours_ago=0, **overrides):
    """factories.complaint, with the date of complaint on the (backdated) day received."""
    if hours_ago:
        day = timezone.localdate(timezone.now() - timedelta(hours=hours_ago))
        overrides.setdefault("date_of_complaint", day)
    return factories.complaint(actor, hours_ago=hours_ago, **overrides)


def taken(complaint, user):
    return services.complaint_assign(complaint, actor=user, assignee=user)


def client_for(user, **kwargs):
    client = Client(**kwargs)
    client.force_login(user)
    return client


def home_html(user):
    response = client_for(user).get(HOME)
    assert response.status_code == 200
    return response.content.decode()


def sections(html):
    """{section title: its HTML} for the cards of the home page."""
    found = {}
    for _, body in SECTION.findall(html):
        title = TITLE.search(body)
        if title:
            found[TAG.sub("", title.group(1)).strip()] = body
    return found


def queues(html):
    """{queue title: [references, in the order shown]}."""
    return {
        title: ROW_REFERENCE.findall(body)
        for title, body in sections(html).items()
        if title not in ("Team workload", "Consultations waiting for your answer", "Dashboard")
    }


def row_of(html, reference):
    rows = [row for row in ROW.findall(html) if f">{reference}</a>" in row]
    assert len(rows) == 1, f"{reference} is in {len(rows)} rows"
    return rows[0]


def text(fragment):
    return " ".join(TAG.sub(" ", fragment).split())


# Which complaints each role's home shows ------------------------------------------------------


def test_csr_home_intake_is_unassigned_open_and_mine_is_assigned_to_me(
    csr, csr2, resolver, manager
):
    unassigned = received_ago(csr)
    unassigned_by_colleague = received_ago(csr2)
    mine = taken(received_ago(csr), csr)
    mine_acknowledged = factories.complaint_at_stage(
        "acknowledged", csr=csr, resolver=resolver, manager=manager
    )
    colleagues = taken(received_ago(csr2), csr2)
    closed_unassigned = factories.complaint_at_stage(
        "reviewed", csr=csr, resolver=resolver, manager=manager
    )
    Complaint.objects.filter(pk=closed_unassigned.pk).update(assignee=None)

    html = home_html(csr)
    shown = queues(html)

    assert list(shown) == ["Intake queue", "My complaints"]
    assert sorted(shown["Intake queue"]) == sorted(
        [unassigned.reference, unassigned_by_colleague.reference]
    )
    assert sorted(shown["My complaints"]) == sorted([mine.reference, mine_acknowledged.reference])
    # Neither colleague's assigned work nor a closed case is anywhere on the page.
    assert colleagues.reference not in html
    assert closed_unassigned.reference not in html


def test_complaint_assigned_to_another_csr_never_appears_for_csr(csr, csr2):
    colleagues = taken(received_ago(csr2), csr2)
    escalated = services.complaint_escalate(
        taken(received_ago(csr2, hours_ago=30), csr2),
        actor=csr2,
        level="team",
        reason="Needs the resolution team",
    )

    html = home_html(csr)

    assert colleagues.reference not in html
    assert escalated.reference not in html
    assert home_html(csr2).count(colleagues.reference) >= 1


def test_resolver_home_shows_team_escalations_and_own_but_not_csr_work(
    csr, csr2, resolver, manager
):
    to_team = services.complaint_escalate(
        received_ago(csr), actor=csr, level="team", reason="Technical issue"
    )
    to_team_assigned_to_csr = services.complaint_escalate(
        taken(received_ago(csr), csr), actor=csr, level="team", reason="Needs a specialist"
    )
    resolvers_own = taken(
        services.complaint_escalate(
            received_ago(csr2), actor=csr2, level="team", reason="Card fraud"
        ),
        resolver,
    )
    unescalated_unassigned = received_ago(csr)
    unescalated_csr_work = taken(received_ago(csr), csr)
    to_managers = services.complaint_escalate(
        received_ago(csr), actor=csr, level="manager", reason="Ombudsman threatened"
    )

    html = home_html(resolver)
    shown = queues(html)

    assert list(shown) == ["Escalated to the resolution team", "My complaints"]
    # The resolver's own escalated case is listed once, under their complaints.
    assert sorted(shown["Escalated to the resolution team"]) == sorted(
        [to_team.reference, to_team_assigned_to_csr.reference]
    )
    assert shown["My complaints"] == [resolvers_own.reference]
    for hidden in (unescalated_unassigned, unescalated_csr_work, to_managers):
        assert hidden.reference not in html


def test_manager_escalation_queue_holds_breaches_escalations_approvals_and_missed_targets(
    csr, resolver, manager
):
    now = timezone.now()
    breached = received_ago(csr, hours_ago=25)
    to_managers = services.complaint_escalate(
        received_ago(csr), actor=csr, level="manager", reason="Ombudsman threatened"
    )
    awaiting = factories.complaint_at_stage(
        "investigating", csr=csr, resolver=resolver, manager=manager
    )
    services.resolution_propose(
        awaiting, actor=csr, type="refund", amount=Decimal("750.00"), description="Full refund"
    )
    # Received ten days ago, acknowledged at once: only its resolution target is missed.
    target_missed = received_ago(csr, hours_ago=240, complexity="simple")
    taken(target_missed, csr)
    services.complaint_acknowledge(
        target_missed, actor=csr, method="phone", at=target_missed.received_at + timedelta(hours=1)
    )
    ordinary = received_ago(csr)
    ordinary_investigating = factories.complaint_at_stage(
        "investigating", csr=csr, resolver=resolver, manager=manager
    )

    assert sweeps.enforce_acknowledgment_deadline(now=now)["breached"] == 1
    assert sweeps.enforce_resolution_targets(now=now)["overdue"] == 1
    breached.refresh_from_db()
    target_missed.refresh_from_db()
    assert breached.acknowledgment_breached_at is not None
    assert target_missed.resolution_overdue_at is not None
    assert target_missed.acknowledgment_breached_at is None

    # What was handed to the manager (the escalation, the approval) is new: listed first.
    queue = sections(home_html(manager))["Escalation queue"]
    assert ROW_REFERENCE.findall(queue) == [
        to_managers.reference,
        awaiting.reference,
        target_missed.reference,
        breached.reference,
    ]
    for opened in (to_managers, awaiting):
        services.signals_seen(opened, manager)

    html = home_html(manager)
    queue = sections(html)["Escalation queue"]
    shown = ROW_REFERENCE.findall(queue)

    # Once opened, earliest deadline first: the missed target (days ago), the missed
    # acknowledgment (an hour ago), the fresh escalation (tomorrow), the resolution awaiting
    # approval (weeks).
    assert shown == [
        target_missed.reference,
        breached.reference,
        to_managers.reference,
        awaiting.reference,
    ]
    assert ordinary.reference not in queue
    assert ordinary_investigating.reference not in queue
    assert "ack missed" in row_of(queue, breached.reference)
    assert "target missed" in row_of(queue, target_missed.reference)
    assert "approval" in row_of(queue, awaiting.reference)
    assert "approval" not in row_of(queue, to_managers.reference)


def test_manager_sign_off_queue_holds_documented_cases_oldest_first_and_its_list_matches(
    csr, resolver, manager
):
    people = {"csr": csr, "resolver": resolver, "manager": manager}
    recent = factories.complaint_at_stage("documented", **people)
    older = factories.complaint_at_stage("documented", **people)
    Complaint.objects.filter(pk=older.pk).update(
        documented_at=recent.documented_at - timedelta(days=3)
    )
    reviewed = factories.complaint_at_stage("reviewed", **people)
    in_follow_up = factories.complaint_at_stage("follow_up", **people)

    html = home_html(manager)
    queue = sections(html)["Sign-off queue 2"]
    assert ROW_REFERENCE.findall(queue) == [older.reference, recent.reference]
    assert reviewed.reference not in html and in_follow_up.reference not in queue
    link = re.search(r'href="(/complaints/\?queue=sign_off)"', queue)
    assert link, "the queue has no link to its list"

    page = client_for(manager).get(link.group(1)).content.decode()
    assert ROW_REFERENCE.findall(page) == [older.reference, recent.reference]
    assert "waiting for a manager&#x27;s sign-off" in page
    assert 'type="hidden" name="queue" value="sign_off"' in page

    services.review_sign_off(older, actor=manager, quality_notes="Handled well.")
    assert ROW_REFERENCE.findall(sections(home_html(manager))["Sign-off queue 1"]) == [
        recent.reference
    ]


def test_only_managers_have_a_sign_off_queue(csr, resolver, manager):
    empty = sections(home_html(manager))["Sign-off queue 0"]
    assert "No documented cases waiting for review." in empty
    factories.complaint_at_stage("documented", csr=csr, resolver=resolver, manager=manager)
    for user in (csr, resolver):
        assert "Sign-off queue" not in home_html(user)


# Order, countdowns, Take --------------------------------------------------------------------


def test_queues_are_sorted_by_next_deadline_with_countdowns(csr, resolver, manager):
    one_hour = received_ago(csr, hours_ago=1)
    ten_hours = received_ago(csr, hours_ago=10)
    five_hours = received_ago(csr, hours_ago=5)
    overdue = received_ago(csr, hours_ago=25)
    acknowledged = factories.complaint_at_stage(
        "acknowledged", csr=csr, resolver=resolver, manager=manager
    )
    mine_received = taken(received_ago(csr, hours_ago=2), csr)

    html = home_html(csr)
    shown = queues(html)

    assert shown["Intake queue"] == [
        overdue.reference,
        ten_hours.reference,
        five_hours.reference,
        one_hour.reference,
    ]
    # The acknowledgment due tomorrow comes before the resolution target days away.
    assert shown["My complaints"] == [mine_received.reference, acknowledged.reference]

    overdue_row = row_of(html, overdue.reference)
    assert "acknowledgment overdue by" in text(overdue_row)
    assert "countdown-overdue" in overdue_row
    for on_time in (one_hour, ten_hours, five_hours, mine_received):
        row = row_of(html, on_time.reference)
        assert "acknowledgment due in" in text(row)
        assert "countdown-overdue" not in row
    acknowledged_row = row_of(html, acknowledged.reference)
    assert "resolution due in" in text(acknowledged_row)
    assert "countdown-overdue" not in acknowledged_row


def test_take_from_the_intake_queue_is_one_click(csr):
    complaint = received_ago(csr)
    client = client_for(csr, enforce_csrf_checks=True)
    html = client.get(HOME).content.decode()
    take_url = reverse("complaints:action", args=[complaint.pk, "take"])
    form = re.search(
        rf'<form method="post" action="{re.escape(take_url)}">'
        r'<input type="hidden" name="csrfmiddlewaretoken" value="([^"]+)">',
        html,
    )
    assert form, "the intake row has no Take form"

    # Exactly what the button sends: the token in the form, nothing else.
    response = client.post(take_url, {"csrfmiddlewaretoken": form.group(1)})

    assert response.status_code == 302
    assert response["Location"] == reverse("complaints:detail", args=[complaint.pk])
    complaint.refresh_from_db()
    assert complaint.assignee == csr
    shown = queues(client.get(HOME).content.decode())
    assert shown["Intake queue"] == []
    assert shown["My complaints"] == [complaint.reference]


def test_take_button_only_on_rows_not_already_mine(csr, resolver):
    to_team = services.complaint_escalate(
        received_ago(csr), actor=csr, level="team", reason="Technical issue"
    )
    own = taken(
        services.complaint_escalate(received_ago(csr), actor=csr, level="team", reason="Fraud"),
        resolver,
    )

    html = home_html(resolver)
    team_queue = sections(html)["Escalated to the resolution team"]

    assert "Take<span" in row_of(team_queue, to_team.reference)
    assert own.reference not in team_queue
    assert "Take<span" not in row_of(sections(html)["My complaints"], own.reference)


def test_csr_assigns_from_the_intake_queue_in_one_submit_and_stays_on_the_queue(csr, csr2):
    waiting = received_ago(csr)
    client = Client()
    client.force_login(csr)
    intake = sections(client.get(HOME).content.decode())["Intake queue"]
    row = row_of(intake, waiting.reference)
    assert f'action="/complaints/{waiting.pk}/assign/"' in row
    assert f'<option value="{csr2.pk}">' in row

    response = client.post(
        f"/complaints/{waiting.pk}/assign/", {"assignee": csr2.pk, "next": HOME}, follow=True
    )

    assert response.redirect_chain == [(HOME, 302)]
    assert f"{waiting.reference}: Assignment saved." in response.content.decode()
    waiting.refresh_from_db()
    assert waiting.assignee == csr2


@pytest.mark.parametrize("back_to", ["foo", "?page=2", "", "javascript:alert(1)"])
def test_assign_with_an_odd_next_saves_and_opens_the_complaint(csr, csr2, back_to):
    waiting = received_ago(csr)
    client = Client()
    client.force_login(csr)

    response = client.post(
        f"/complaints/{waiting.pk}/assign/", {"assignee": csr2.pk, "next": back_to}
    )

    assert response.status_code == 302
    assert response.url == f"/complaints/{waiting.pk}/"
    waiting.refresh_from_db()
    assert waiting.assignee == csr2


def test_the_team_queue_opens_as_a_list_of_the_same_complaints(csr, resolver):
    to_team = services.complaint_escalate(
        received_ago(csr), actor=csr, level="team", reason="Specialist"
    )
    taken(
        services.complaint_escalate(received_ago(csr), actor=csr, level="team", reason="Fraud"),
        resolver,
    )
    html = home_html(resolver)
    link = re.search(r'href="(/complaints/\?escalated=team[^"]*)"', html).group(1)
    client = Client()
    client.force_login(resolver)

    listed = ROW_REFERENCE.findall(client.get(link.replace("&amp;", "&")).content.decode())

    assert listed == ROW_REFERENCE.findall(sections(html)["Escalated to the resolution team"])
    assert listed == [to_team.reference]


def test_assign_from_a_queue_never_redirects_off_site(csr, csr2):
    waiting = received_ago(csr)
    client = Client()
    client.force_login(csr)

    response = client.post(
        f"/complaints/{waiting.pk}/assign/", {"assignee": csr2.pk, "next": "https://evil.example/"}
    )

    assert response.url == f"/complaints/{waiting.pk}/"


def test_a_refused_assignment_from_a_queue_says_which_complaint(csr, csr2):
    # A colleague took it meanwhile: a CSR may hand round only unassigned complaints.
    waiting = taken(received_ago(csr), csr2)
    client = Client()
    client.force_login(csr)

    response = client.post(
        f"/complaints/{waiting.pk}/assign/", {"assignee": csr.pk, "next": HOME}, follow=True
    )

    assert f"{waiting.reference}: You are not allowed" in response.content.decode()
    waiting.refresh_from_db()
    assert waiting.assignee == csr2


def test_manager_assigns_from_the_escalation_queue(csr, resolver, manager):
    escalated = services.complaint_escalate(
        received_ago(csr), actor=csr, level="manager", reason="Ombudsman threatened"
    )
    queue = sections(home_html(manager))["Escalation queue"]

    assert "escalated to managers" in row_of(queue, escalated.reference)
    assert f'<option value="{resolver.pk}">' in row_of(queue, escalated.reference)


def test_empty_queues_say_nice_work(csr):
    html = home_html(csr)
    found = sections(html)

    assert EMPTY in found["Intake queue"]
    assert EMPTY in found["My complaints"]


# Manager extras: workload and dashboard -----------------------------------------------------


def workload(html):
    rows = {}
    for row in ROW.findall(sections(html)["Team workload"]):
        cells = [text(cell) for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
        if not cells:  # the header row
            continue
        rows[cells[0]] = (int(cells[1]), int(cells[2]))
    return rows


@pytest.fixture
def team_state(csr, csr2, resolver, manager):
    """Csr: 2 open (1 overdue) and 1 closed; csr2: 1 open; 1 unassigned."""
    overdue = taken(received_ago(csr, hours_ago=25), csr)
    acknowledged = factories.complaint_at_stage(
        "acknowledged", csr=csr, resolver=resolver, manager=manager
    )
    colleagues = taken(received_ago(csr2), csr2)
    unassigned = received_ago(csr)
    closed = factories.complaint_at_stage("reviewed", csr=csr, resolver=resolver, manager=manager)
    return overdue, acknowledged, colleagues, unassigned, closed


def test_team_workload_counts_open_and_overdue_per_person(manager, csr, csr2, team_state):
    html = home_html(manager)

    assert workload(html) == {"Csr": (2, 1), "Csr2": (1, 0), "Unassigned": (1, 0)}
    table = sections(html)["Team workload"]
    assert f'href="/complaints/?assignee={csr.pk}">2</a>' in table
    assert f'href="/complaints/?overdue=on&assignee={csr.pk}">1</a>' in table
    assert 'href="/complaints/?assignee=none">1</a>' in table


def test_dashboard_on_manager_home_links_to_the_list(manager, team_state):
    html = home_html(manager)
    dashboard = re.search(
        r'<section class="mb-3" aria-labelledby="dashboard-title">(.*?)</section>', html, re.S
    )
    assert dashboard, "the manager's home has no dashboard"
    board = dashboard.group(1)

    # Open by stage: 3 received, 1 acknowledged; the reviewed case is closed.
    assert 'href="/complaints/?stage=open">4</a>' in board
    assert 'href="/complaints/?stage=received">Received 3</a>' in board
    assert 'href="/complaints/?stage=acknowledged">Acknowledged 1</a>' in board
    assert 'href="/complaints/?stage=investigating">Investigating 0</a>' in board
    # Acknowledged on time: two acknowledged at once, one 25 h old never acknowledged.
    assert "67%" in board
    assert "2 on time of 3 due · 1 late" in text(board)
    links = re.findall(r'<a [^>]*href="([^"]*)"', board)
    assert len(links) >= 8
    # Every figure links to the list behind it (the review reminder links to the reviews).
    figures = [link for link in links if not link.startswith("/reports/")]
    assert all("/complaints/?" in link for link in figures), links


def test_each_count_on_the_dashboard_opens_a_list_of_that_many_complaints(manager, team_state):
    client = Client()
    client.force_login(manager)
    html = home_html(manager)
    board = re.search(r'aria-labelledby="dashboard-title">(.*?)</section>', html, re.S)
    anchors = re.findall(r'<a [^>]*href="(/complaints/\?[^"]*)"[^>]*>(.*?)</a>', board.group(1))
    checked = 0
    for href, label in anchors:
        count = re.fullmatch(
            r"(?:[A-Z][a-z-]+(?: [a-z]+)* )?(\d+)(?: on time| late| resolved)?", text(label)
        )
        if count is None:
            continue
        listed = ROW_REFERENCE.findall(client.get(href.replace("&amp;", "&")).content.decode())
        assert len(listed) == int(count.group(1)), (label, href)
        checked += 1
    # Open total, five stages, on time, late and resolved; closed without a resolution and
    # its three exits.
    assert checked == 13
    due = next(href for href, label in anchors if label == "67%").replace("&amp;", "&")
    assert len(ROW_REFERENCE.findall(client.get(due).content.decode())) == 3


def test_the_escalation_queue_opens_as_a_list_of_the_same_complaints(csr, resolver, manager):
    breached = received_ago(csr, hours_ago=25)
    sweeps.enforce_acknowledgment_deadline()
    to_managers = services.complaint_escalate(
        received_ago(csr), actor=csr, level="manager", reason="Ombudsman threatened"
    )
    awaiting = factories.complaint_at_stage(
        "investigating", csr=csr, resolver=resolver, manager=manager
    )
    services.resolution_propose(
        awaiting, actor=csr, type="refund", amount=Decimal("600.00"), description="Refund"
    )
    services.complaint_escalate(received_ago(csr), actor=csr, level="team", reason="Specialist")
    # Opened, so nothing is new: the queue shows the list's deadline order.
    for opened in (to_managers, awaiting):
        services.signals_seen(opened, manager)
    html = home_html(manager)
    queue = sections(html)["Escalation queue"]
    link = re.search(r'href="(/complaints/\?queue=escalations)"', html)
    assert link, "the queue has no link to its list"

    client = Client()
    client.force_login(manager)
    page = client.get(link.group(1)).content.decode()

    assert ROW_REFERENCE.findall(page) == ROW_REFERENCE.findall(queue)
    assert sorted(ROW_REFERENCE.findall(page)) == sorted(
        [breached.reference, to_managers.reference, awaiting.reference]
    )
    assert "awaiting approval" in page and "ack missed" in page
    assert "the escalation queue" in page
    assert 'type="hidden" name="queue" value="escalations"' in page


def test_csr_and_resolver_have_no_dashboard_or_workload(csr, resolver, team_state):
    for user in (csr, resolver):
        html = home_html(user)
        assert "dashboard-title" not in html
        assert "Team workload" not in html
        assert "Escalation queue" not in html


# Consultations --------------------------------------------------------------------------------


def test_consultations_waiting_for_my_answer_are_listed(csr, csr2, resolver, manager):
    complaint = factories.complaint_at_stage(
        "investigating", csr=csr2, resolver=resolver, manager=manager
    )
    mine = services.consultation_request(
        complaint,
        actor=manager,
        department="Cards",
        question="Was the card charged twice on the 3rd?",
        consultee=csr,
    )
    answered = services.consultation_request(
        complaint, actor=manager, department="Cards", question="Answered one", consultee=csr
    )
    services.consultation_answer(answered, actor=csr, answer="Yes.")
    services.consultation_request(
        complaint,
        actor=manager,
        department="Legal",
        question="For someone else",
        consultee=resolver,
    )

    html = home_html(csr)
    box = sections(html)["Consultations waiting for your answer"]

    assert reverse("complaints:consultation", args=[mine.pk]) in box
    assert complaint.reference in box
    assert "Was the card charged twice on the 3rd?" in box
    assert "Answered one" not in box
    assert "For someone else" not in box
    # The consultee answers the question without being able to see the case in a queue.
    assert complaint.reference not in "".join(
        body
        for title, body in sections(html).items()
        if title != "Consultations waiting for your answer"
    )
    assert "Consultations waiting for your answer" not in home_html(csr2)


# Bounded queries ------------------------------------------------------------------------------


def _populate(kinds, *, csr, csr2, resolver, manager, first=0):
    """Complaints of every kind the pages show, over several categories and products."""
    made = []
    for i, kind in enumerate(kinds, start=first):
        overrides = {
            "category": factories.category(f"Category {i % 4}"),
            "product": factories.product(f"Product {i % 3}"),
            "customer_name": f"Customer {i}",
        }
        if kind == 0:
            complaint = received_ago(csr, hours_ago=i % 30, **overrides)
        elif kind == 1:
            complaint = taken(received_ago(csr, **overrides), csr)
        elif kind == 2:
            complaint = services.complaint_escalate(
                received_ago(csr, **overrides), actor=csr, level="team", reason="Specialist"
            )
        elif kind == 3:
            complaint = services.complaint_escalate(
                taken(received_ago(csr2, **overrides), csr2),
                actor=csr2,
                level="manager",
                reason="Ombudsman",
            )
        elif kind == 4:
            complaint = taken(
                services.complaint_escalate(
                    received_ago(csr, **overrides), actor=csr, level="team", reason="Fraud"
                ),
                resolver,
            )
        else:
            complaint = factories.complaint_at_stage(
                "investigating", csr=csr, resolver=resolver, manager=manager, **overrides
            )
            services.consultation_request(
                complaint, actor=manager, department="Cards", question=f"Q{i}", consultee=csr
            )
            services.resolution_propose(
                complaint, actor=csr, type="refund", amount=Decimal("900"), description="Refund"
            )
        made.append(complaint)
    return made


def _query_count(client, url):
    with CaptureQueriesContext(connection) as context:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(context.captured_queries)


def test_pages_make_the_same_number_of_queries_for_3_and_40_complaints(
    csr, csr2, resolver, manager, django_assert_max_num_queries
):
    people = {"csr": csr, "csr2": csr2, "resolver": resolver, "manager": manager}
    # Unassigned, a colleague's escalated to managers, mine awaiting approval and consulted.
    made = _populate([0, 3, 5], **people)
    detailed = made[-1]
    assert Complaint.objects.count() == 3
    # Something new for everyone in both sizes: the queues read the new rows first.
    for person in people.values():
        services.signal_raise(made[0], "assigned", for_user=person)
    clients = {name: client_for(user) for name, user in people.items()}
    pages = {
        "csr home": (clients["csr"], HOME),
        "resolver home": (clients["resolver"], HOME),
        "manager home": (clients["manager"], HOME),
        "manager list": (clients["manager"], "/complaints/?stage=all"),
        "csr list": (clients["csr"], "/complaints/"),
        "detail": (clients["manager"], reverse("complaints:detail", args=[detailed.pk])),
    }
    for client, url in pages.values():  # warm every cache first
        _query_count(client, url)
    small = {name: _query_count(client, url) for name, (client, url) in pages.items()}

    _populate([i % 6 for i in range(37)], first=3, **people)
    assert Complaint.objects.count() == 40
    large = {}
    for name, (client, url) in pages.items():
        with django_assert_max_num_queries(small[name], info=name) as captured:
            assert client.get(url).status_code == 200
        large[name] = len(captured)

    assert large == small
    # Issue 24: the session, the user, what is new for them (its cases and its counts), two
    # reads per queue (the cases to lift, flagged or new, then the rest: one when those fill
    # the page), then the consultations and the assign menu's team; managers also the missed
    # clocks, the sign-off queue's count, the workload and its people, and the dashboard (14,
    # computed afresh: the tests cache nothing).
    homes = {name: small[name] for name in ("csr home", "resolver home", "manager home")}
    assert homes == {"csr home": 10, "resolver home": 9, "manager home": 16 + 14}


def test_detail_page_queries_do_not_grow_with_open_consultations(csr, resolver, manager):
    complaint = factories.complaint_at_stage(
        "investigating", csr=csr, resolver=resolver, manager=manager
    )
    ask = services.consultation_request
    ask(complaint, actor=manager, department="Cards", question="Q0", consultee=resolver)
    client = client_for(manager)
    url = reverse("complaints:detail", args=[complaint.pk])
    _query_count(client, url)
    one = _query_count(client, url)
    for i in range(1, 5):
        ask(complaint, actor=manager, department="Cards", question=f"Q{i}", consultee=resolver)

    assert _query_count(client, url) == one


def test_workload_marks_complaints_held_by_the_import_account_to_reassign(csr, manager):
    held = received_ago(csr, hours_ago=30)
    Complaint.objects.filter(pk=held.pk).update(assignee=import_user())

    table = sections(home_html(manager))["Team workload"]

    assert "CSV import" in table
    assert "imported still in progress at the source; account inactive: reassign" in text(table)


def test_a_fresh_install_shows_no_procedure_review_banner_on_its_first_day(manager):
    assert "A review of the complaints procedure is due" not in home_html(manager)


def test_the_menu_marks_the_current_page_and_the_page_has_a_favicon(manager):
    client = client_for(manager)
    for path, label in ((HOME, "My work"), ("/complaints/", "Complaints")):
        html = client.get(path).content.decode()
        current = re.findall(
            r'<a class="nav-link active" aria-current="page" href="[^"]+">([^<]+)', html
        )
        assert current == [label], path
        assert re.search(r'<link rel="icon" href="[^"]*favicon\.svg"', html)


def test_the_complaint_page_makes_the_same_queries_with_5_and_50_timeline_events(
    csr, resolver, manager
):
    """Issue 24: a long case's page costs what a short one's does (the bench times it with
    50 events)."""
    complaint = factories.complaint_at_stage(
        "investigating", csr=csr, resolver=resolver, manager=manager
    )
    client = client_for(manager)
    url = reverse("complaints:detail", args=[complaint.pk])

    def events():
        loaded = selectors.complaint_detail_queryset().get(pk=complaint.pk)
        return len(selectors.complaint_timeline(loaded))

    def grow_to(count):
        for number in range(count - events()):
            services.note_add(complaint, actor=manager, text=f"Called the customer ({number}).")
            if number % 3 == 0:
                services.complaint_update(
                    complaint, actor=manager, changes={"description": f"Version {number}"}
                )
        assert events() >= count

    grow_to(5)
    _query_count(client, url)
    few = _query_count(client, url)
    grow_to(50)
    assert _query_count(client, url) == few == COMPLAINT_PAGE_QUERIES


# The session and the user; the complaint with its category, product, root cause, people,
# review and profile; its clocks, stage changes, notes, consultations, resolutions, feedback,
# documents, flags, messages, inbound messages and the cases merged into it (none here, so not
# their merges), a query each; the signals this person has not seen; the team (the assign
# and consult forms offer them, the timeline names them); the history; the root causes the
# form offers while none is recorded. The names of people outside the team, or of a category
# the record no longer has, would add one a kind.
COMPLAINT_PAGE_QUERIES = 18
