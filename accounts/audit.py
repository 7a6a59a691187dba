"""Every change made through the admin site (settings, managed lists, holidays, users, tokens)
goes to the security log as well as to Django's own admin history, which an administrator
can edit; the security log cannot be."""

from django.contrib.admin.models import LogEntry
from django.db.models.signals import post_save
from django.dispatch import receiver

from accounts.models import SecurityEventKind
from accounts.services import security_event_record


@receiver(post_save, sender=LogEntry, dispatch_uid="redress-record-admin-change")
def _record_admin_change(sender, instance, created, **kwargs):
    if not created:
        return
    what = f"{instance.content_type.name if instance.content_type else 'object'}"
    security_event_record(
        SecurityEventKind.ADMIN_CHANGED,
        actor=instance.user,
        detail=f"{instance.get_action_flag_display()} {what} «{instance.object_repr}»: "
        f"{instance.get_change_message() or 'no fields changed'}"[:500],
    )
