"""What every service shares: the row lock, who acted and why for the history, and files
removed when the change that wrote them fails.

`actor` is a User, or None when the system or the customer's own link acts. A change no person
made names what made it in its history reason ("Acknowledgment deadline missed: escalated to
managers", "Imported from CSV"), since django-simple-history's user column holds people only.
"""

from contextlib import contextmanager
from datetime import timedelta

from accounts.roles import workflow_role
from complaints import workflow
from complaints.models import Complaint
from complaints.workflow import Refused

# How far ahead of this server's clock a moment may be (another machine's clock) before it
# is refused as in the future.
CLOCK_SKEW = timedelta(minutes=5)


def locked(complaint):
    """Re-read the complaint under a row lock, so two people cannot change it at once."""
    return Complaint.objects.select_for_update().get(pk=complaint.pk)


def representative_check(represented, name):
    """A representative's name says someone acts for the customer: both, or neither."""
    if name.strip() and not represented:
        raise Refused(
            "A representative is named but not marked as acting for the customer: "
            "tick the box or remove the name."
        )


def attribute(instance, actor, reason):
    """Tell django-simple-history who made the change and why, also outside a request."""
    instance._history_user = actor
    instance._change_reason = reason


def role_of(actor):
    return workflow_role(actor) if actor is not None else workflow.SYSTEM


@contextmanager
def files_removed_on_failure():
    """Files written inside a failing service call are removed with its rolled-back rows."""
    written = []
    try:
        yield written
    except BaseException:
        for path in written:
            path.unlink(missing_ok=True)
        raise
