"""The history of settings (users and roles here; managed lists, holidays, retention policies,
procedure reviews and improvement actions in their apps), kept by django-simple-history and
exported as CSV: who changed what, when, from what to what."""

import csv

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse

HEADER = ("setting", "object id", "object", "when", "who", "change", "reason", "old → new")
KINDS = {"+": "created", "~": "changed", "-": "deleted"}


def history_rows(records):
    """One row per historical record, oldest first, with the fields it changed."""
    for record in records.order_by("history_date", "history_id").select_related("history_user"):
        previous = record.prev_record
        changes = ""
        if previous is not None:
            delta = record.diff_against(previous)
            changes = "; ".join(f"{c.field}: {c.old!r} → {c.new!r}" for c in delta.changes)
        yield (
            record.instance_type._meta.verbose_name,
            record.instance.pk,
            str(record.instance),
            record.history_date.isoformat(),
            str(record.history_user or "system"),
            KINDS.get(record.history_type, record.history_type),
            record.history_change_reason or "",
            changes,
        )


def write_history_csv(stream, history_querysets):
    writer = csv.writer(stream)
    writer.writerow(HEADER)
    for records in history_querysets:
        writer.writerows(history_rows(records))


@admin.action(description="Export the history of the selected as CSV")
def export_history(modeladmin, request, queryset):
    model = queryset.model
    records = model.history.filter(**{f"{model._meta.pk.attname}__in": queryset.values("pk")})
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    name = model._meta.model_name
    response["Content-Disposition"] = f'attachment; filename="{name}-history.csv"'
    write_history_csv(response, [records])
    return response


class HistoryToReadMixin:
    """For a SimpleHistoryAdmin whose earlier versions are there to read: simple-history saves
    whatever form is posted to a version's page, Revert button shown or not, and a revert
    would go around the services (and, for users, around the security log)."""

    def revert_disabled(self, request, obj=None):
        return True

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        if request.method not in ("GET", "HEAD"):
            raise PermissionDenied
        return super().history_form_view(request, object_id, version_id, extra_context)
