"""Two people editing the same complaint: the second save is refused with who changed it and
when, and what they typed is kept; nothing is overwritten unseen."""

import re
import threading

import pytest
from django.db import connection, transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from simple_history.utils import bulk_update_with_history

from complaints import services
from complaints.imports import import_user
from complaints.models import Complaint
from complaints.workflow import Refused
from tests import factories
from tests.complaints.test_concurrency import run_together
from tests.complaints.test_lifecycle_views import edit_data
from tests.threads import TIMEOUT

pytestmark = pytest.mark.django_db


@pytest.fixture
def complaint(csr):
    complaint = factories.complaint(csr)
    services.complaint_assign(complaint, actor=csr, assignee=csr)
    complaint.refresh_from_db()
    return complaint


def named(user, first, last):
    user.first_name, user.last_name = first, last
    user.save(update_fields=["first_name", "last_name"])
    return user


def edit_url(complaint):
    return reverse("complaints:edit", args=[complaint.pk])


def signed_in(user):
    client = Client()
    client.force_login(user)
    return client


def version_on_page(response):
    """The hidden version the browser will post back, read from the HTML."""
    [version] = re.findall(r'name="version" value="(\d+)"', response.content.decode())
    return version


def record_updates(complaint):
    return complaint.history.filter(history_change_reason="Record updated").count()


# The service ----------------------------------------------------------------------------


def test_a_stale_version_is_refused_and_nothing_changes(complaint, csr, manager):
    named(manager, "Priya", "Shah")
    version = services.complaint_version(complaint)
    services.complaint_update(
        complaint,
        actor=manager,
        changes={"description": "Charged twice; the second charge was refunded."},
        expected_version=version,
    )
    history_before = complaint.history.count()

    with pytest.raises(services.EditConflict) as refused:
        services.complaint_update(
            complaint,
            actor=csr,
            changes={"description": "Charged twice.", "customer_phone": "07700 900123"},
            expected_version=version,
        )

    conflict = refused.value
    assert isinstance(conflict, Refused)
    latest = complaint.history.order_by("-history_id").first()
    assert conflict.changed_by == "Priya Shah"
    assert conflict.changed_at == latest.history_date
    assert conflict.fields == ["description of complaint"]
    assert conflict.version == latest.history_id
    local = timezone.localtime(latest.history_date)
    assert conflict.message == (
        f"Priya Shah changed this complaint at {local:%H:%M} while you were editing. "
        "Your changes were not saved."
    )
    complaint.refresh_from_db()
    assert complaint.description == "Charged twice; the second charge was refunded."
    assert complaint.customer_phone == ""
    assert complaint.history.count() == history_before


def test_saving_again_from_the_version_the_conflict_gives_overwrites_knowingly(
    complaint, csr, manager
):
    version = services.complaint_version(complaint)
    services.complaint_update(
        complaint, actor=manager, changes={"description": "Theirs."}, expected_version=version
    )
    with pytest.raises(services.EditConflict) as refused:
        services.complaint_update(
            complaint, actor=csr, changes={"description": "Mine."}, expected_version=version
        )

    services.complaint_update(
        complaint,
        actor=csr,
        changes={"description": "Mine."},
        expected_version=refused.value.version,
    )

    complaint.refresh_from_db()
    assert complaint.description == "Mine."


def test_changes_to_fields_not_being_saved_are_no_conflict(complaint, csr, manager):
    """A stage move, an escalation or a clock job's mark leaves the edited fields as they are."""
    version = services.complaint_version(complaint)
    services.complaint_acknowledge(complaint, actor=manager, method="phone")
    services.complaint_escalate(complaint, actor=manager, level="team", reason="Large amount.")

    services.complaint_update(
        complaint, actor=csr, changes={"description": "Mine."}, expected_version=version
    )

    complaint.refresh_from_db()
    assert complaint.description == "Mine."


def test_a_change_that_does_not_touch_updated_at_is_still_a_conflict(complaint, csr):
    """A CSV re-import updates the description in bulk, leaving updated_at as it was."""
    version = services.complaint_version(complaint)
    imported = Complaint.objects.get(pk=complaint.pk)
    imported.description = "From the import."
    bulk_update_with_history(
        [imported],
        Complaint,
        ["description"],
        default_user=import_user(),
        default_change_reason="Updated by a CSV import",
    )
    complaint.refresh_from_db()
    assert complaint.updated_at == imported.updated_at

    with pytest.raises(services.EditConflict, match="^CSV import changed this complaint"):
        services.complaint_update(
            complaint, actor=csr, changes={"description": "Mine."}, expected_version=version
        )
    complaint.refresh_from_db()
    assert complaint.description == "From the import."


def test_a_version_this_complaint_never_had_is_a_conflict(complaint, csr):
    other = factories.complaint(csr)
    with pytest.raises(services.EditConflict) as refused:
        services.complaint_update(
            complaint,
            actor=csr,
            changes={"description": "Mine."},
            expected_version=services.complaint_version(other),
        )
    assert refused.value.version == services.complaint_version(complaint)
    assert refused.value.fields == []


def test_without_a_version_nothing_is_checked(complaint, csr, manager):
    """The old call, for seeding and scripts."""
    services.complaint_update(complaint, actor=manager, changes={"description": "Theirs."})
    services.complaint_update(complaint, actor=csr, changes={"description": "Mine."})
    complaint.refresh_from_db()
    assert complaint.description == "Mine."


# The edit page --------------------------------------------------------------------------


def test_the_edit_page_carries_the_version_it_shows(complaint, csr):
    response = signed_in(csr).get(edit_url(complaint))
    assert response.status_code == 200
    assert version_on_page(response) == str(services.complaint_version(complaint))


def test_second_save_gets_409_with_who_and_when_and_keeps_what_they_typed(complaint, csr, manager):
    named(manager, "Priya", "Shah")
    first, second = signed_in(manager), signed_in(csr)
    first_version = version_on_page(first.get(edit_url(complaint)))
    second_version = version_on_page(second.get(edit_url(complaint)))

    saved = first.post(
        edit_url(complaint),
        edit_data(complaint, description="Theirs: charged twice.", version=first_version),
    )
    assert saved.status_code == 302
    response = second.post(
        edit_url(complaint),
        edit_data(
            complaint,
            description="Mine: charged twice on 3 March.",
            customer_phone="07700 900123",
            version=second_version,
        ),
    )

    assert response.status_code == 409
    page = response.content.decode()
    latest = complaint.history.order_by("-history_id").first()
    local = timezone.localtime(latest.history_date)
    assert f"Priya Shah changed this complaint at {local:%H:%M} while you were editing." in page
    assert "Your changes were not saved." in page
    assert "They changed: description of complaint." in page
    assert f'href="{reverse("complaints:detail", args=[complaint.pk])}#timeline-title"' in page
    form = response.context["form"]
    assert form["description"].value() == "Mine: charged twice on 3 March."
    assert form["customer_phone"].value() == "07700 900123"
    assert "Mine: charged twice on 3 March." in page
    assert version_on_page(response) == str(latest.history_id)
    complaint.refresh_from_db()
    assert complaint.description == "Theirs: charged twice."
    assert complaint.customer_phone == ""

    again = second.post(
        edit_url(complaint),
        edit_data(
            complaint,
            description="Mine: charged twice on 3 March.",
            customer_phone="07700 900123",
            version=version_on_page(response),
        ),
    )
    assert again.status_code == 302
    complaint.refresh_from_db()
    assert complaint.description == "Mine: charged twice on 3 March."
    assert complaint.customer_phone == "07700 900123"


def test_the_conflict_escapes_the_other_persons_name(complaint, csr, manager):
    named(manager, "<script>alert(1)</script>", "O'Brien")
    version = version_on_page(signed_in(csr).get(edit_url(complaint)))
    services.complaint_update(complaint, actor=manager, changes={"description": "Theirs."})

    response = signed_in(csr).post(
        edit_url(complaint), edit_data(complaint, description="<b>mine</b>", version=version)
    )

    assert response.status_code == 409
    page = response.content.decode()
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt; O&#x27;Brien changed this complaint" in page
    assert "<b>mine</b>" not in page
    assert "&lt;b&gt;mine&lt;/b&gt;" in page


def test_a_tampered_version_is_a_form_error_and_nothing_is_saved(complaint, csr):
    response = signed_in(csr).post(
        edit_url(complaint), edit_data(complaint, description="Mine.", version="yesterday")
    )
    assert response.status_code == 200
    assert "This page is out of date. Open the edit page again." in response.content.decode()
    complaint.refresh_from_db()
    assert complaint.description != "Mine."


# A real race ----------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_two_saves_at_once_from_the_same_version_one_wins_the_other_is_told(
    complaint, csr, manager
):
    mine, theirs = signed_in(csr), signed_in(manager)
    version = version_on_page(mine.get(edit_url(complaint)))
    assert version_on_page(theirs.get(edit_url(complaint))) == version
    updates_before = record_updates(complaint)

    outcomes = run_together(
        lambda: mine.post(
            edit_url(complaint), edit_data(complaint, description="Mine.", version=version)
        ),
        lambda: theirs.post(
            edit_url(complaint), edit_data(complaint, description="Theirs.", version=version)
        ),
    )

    statuses = [response.status_code for _, response in outcomes]
    assert sorted(statuses) == [302, 409], statuses
    winner, text = (csr, "Mine.") if statuses[0] == 302 else (manager, "Theirs.")
    loser = outcomes[statuses.index(409)][1]
    assert f"{winner} changed this complaint at " in loser.content.decode()
    complaint.refresh_from_db()
    assert complaint.description == text
    assert record_updates(complaint) == updates_before + 1
    assert complaint.history.order_by("-history_id").first().history_user == winner


@pytest.mark.django_db(transaction=True)
def test_a_save_waiting_for_the_row_lock_sees_the_change_it_waited_for(complaint, csr, manager):
    """The version is checked after the lock is taken, not when the request came in."""
    version = services.complaint_version(complaint)
    outcome = {}

    def second_save():
        try:
            services.complaint_update(
                complaint, actor=csr, changes={"description": "Mine."}, expected_version=version
            )
            outcome["result"] = "saved"
        except BaseException as error:  # checked below, in the test's own thread
            outcome["result"] = error
        finally:
            connection.close()

    with transaction.atomic():
        services.complaint_update(
            complaint, actor=manager, changes={"description": "Theirs."}, expected_version=version
        )
        waiting = threading.Thread(target=second_save, daemon=True)
        waiting.start()
        waiting.join(1)
        assert waiting.is_alive(), outcome  # blocked on the row lock the first save holds
    waiting.join(TIMEOUT)

    assert not waiting.is_alive()
    assert isinstance(outcome["result"], services.EditConflict), outcome
    assert outcome["result"].changed_by == str(manager)
    complaint.refresh_from_db()
    assert complaint.description == "Theirs."
