"""Managers' and operators' pages: the CSV import and the state of the periodic jobs."""

from django.conf import settings
from django.contrib import messages
from django.shortcuts import render

from accounts.decorators import capability_required
from accounts.roles import Capability
from complaints import jobs, selectors
from complaints.imports import ImportFailed, import_cfpb
from complaints.web import forms


@capability_required(Capability.MANAGE_SETTINGS)
def import_upload(request):
    """Managers bring complaints from another system; the same code as import_complaints."""
    form = forms.ImportForm(request.POST or None, request.FILES or None)
    report = None
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            report = import_cfpb(
                upload.file, dry_run=form.cleaned_data["dry_run"], user=request.user
            )
        except ImportFailed as failure:
            # A bad file, or another import running: said on the form, nothing imported.
            form.add_error("file", str(failure))
        else:
            messages.success(
                request,
                ("Checked, nothing saved: " if report.dry_run else "Imported: ")
                + report.summary()
                + ".",
            )
    # The page lists the first 200 rejected rows and counts the rest.
    errors, more_rejected = report.listed(200) if report else ((), 0)
    return render(
        request,
        "complaints/import.html",
        {"form": form, "report": report, "errors": errors, "more_rejected": more_rejected},
    )


@capability_required(Capability.VIEW_REPORTS)
def jobs_status(request):
    latest = selectors.job_runs_latest(jobs.JOBS)
    schedule = {name: entry["schedule"] for name, entry in settings.CELERY_BEAT_SCHEDULE.items()}
    rows = [(name, latest[name], schedule.get(name)) for name in jobs.JOBS]
    return render(request, "complaints/jobs.html", {"rows": rows})
