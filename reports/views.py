import csv

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from accounts.decorators import capability_required
from accounts.models import SecurityEventKind
from accounts.roles import Capability
from accounts.services import security_event_record
from complaints.spreadsheets import TooManyRows, spreadsheet_safe, xlsx_workbook
from complaints.workflow import Refused
from reports import forms, returns, selectors, services
from reports.models import ImprovementAction, Period, ReturnRun, TrendReport

XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

# Each downloadable table: (title, column headings, how to read its rows from the metrics).
TABLES = {
    "by-category": (
        "Received by category",
        ["Category", "Complaints"],
        lambda m: m["received"]["by_category"],
    ),
    "by-product": (
        "Received by product",
        ["Product", "Complaints"],
        lambda m: m["received"]["by_product"],
    ),
    "by-channel": (
        "Received by channel",
        ["Channel", "Complaints"],
        lambda m: m["received"]["by_channel"],
    ),
    "by-day": ("Received by day", ["Day", "Complaints"], lambda m: m["received"]["by_day"]),
    "open-by-stage": (
        "Open at the end, by stage",
        ["Stage", "Complaints"],
        lambda m: m["open_at_end"]["by_stage"],
    ),
    "exits": (
        "Closed without a resolution",
        ["Exit", "Complaints"],
        # Reports built before the exits existed have no such figures.
        lambda m: m.get("exits", {}).get("by_stage", []),
    ),
    "resolution-types": (
        "Resolutions implemented, by type",
        ["Type", "Resolutions"],
        lambda m: m["resolutions"]["by_type"],
    ),
    "money-paid": ("Money paid", ["Currency", "Amount"], lambda m: m["resolutions"]["money_paid"]),
    "root-causes": ("Top root causes", ["Root cause", "Complaints"], lambda m: m["root_causes"]),
    "rising": (
        "Rising categories",
        ["Category", "Complaints", "Trailing average", "Ratio"],
        lambda m: [
            [r["category"], r["count"], r["trailing_average"], r["ratio"]]
            for r in m["rising_categories"]
        ],
    ),
    "clocks": (
        "Compliance per clock",
        ["Profile", "Clock", "Stopped", "Within time", "Share", "Median", "90th pct.", "Unit"],
        # Reports built before the clocks existed have no such figures.
        lambda m: [
            [
                c["profile"],
                c["name"],
                c["stopped"],
                c["within"],
                c["within_share"],
                c["median"],
                c["p90"],
                c["unit"],
            ]
            for c in m.get("clocks", [])
        ],
    ),
}


def _last_closed_period():
    """The form's default: the last period that has ended, the one a report is usually for
    (building the current one gives figures that are still moving)."""
    period = Period.DAILY
    return {"period": period, "day": services.last_closed(period, timezone.localdate())[0]}


@capability_required(Capability.VIEW_REPORTS)
def report_list(request):
    reports = selectors.trend_reports()[:200]
    return render(
        request,
        "reports/list.html",
        {"reports": reports, "form": forms.RebuildForm(initial=_last_closed_period())},
    )


@capability_required(Capability.VIEW_REPORTS)
def report_detail(request, pk):
    report = get_object_or_404(TrendReport, pk=pk)
    tables = [
        (slug, title, headings, rows(report.metrics))
        for slug, (title, headings, rows) in TABLES.items()
    ]
    return render(
        request, "reports/detail.html", {"report": report, "m": report.metrics, "tables": tables}
    )


@capability_required(Capability.VIEW_REPORTS)
def report_csv(request, pk, table):
    report = get_object_or_404(TrendReport, pk=pk)
    if table not in TABLES:
        raise Http404
    title, headings, rows = TABLES[table]
    name = f"{report.period}-{report.start.isoformat()}-{table}.csv"
    security_event_record(SecurityEventKind.DATA_EXPORTED, request=request, detail=name)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    writer = csv.writer(response)
    writer.writerow(headings)
    for row in rows(report.metrics):
        writer.writerow([spreadsheet_safe(value) for value in row])
    return response


NO_PERIOD = "Choose a kind of report and a day in its period."


@require_POST
@capability_required(Capability.VIEW_REPORTS)
def report_rebuild(request):
    form = forms.RebuildForm(request.POST)
    if not form.is_valid():
        # A day out of range says so; anything else (no day, no period) gets the request.
        out_of_range = form.has_error("day", "day_out_of_range")
        messages.error(request, form.errors["day"][0] if out_of_range else NO_PERIOD)
        return redirect("reports:list")
    period, day = form.cleaned_data["period"], form.cleaned_data["day"]
    start, end = services.period_containing(period, day)
    if end > timezone.localdate():
        messages.error(request, "That period has not closed yet; its report is built when it ends.")
        return redirect("reports:list")
    report = services.report_build(period, start)
    messages.success(request, f"{report} built in {report.build_ms} ms.")
    return redirect("reports:detail", pk=report.pk)


@capability_required(Capability.VIEW_REPORTS)
def review_list(request):
    form = forms.ProcedureReviewForm(
        request.POST or None, initial={"held_on": timezone.localdate()}
    )
    action_forms = [
        forms.ImprovementActionForm(request.POST or None, prefix=f"action-{i}") for i in range(3)
    ]
    if request.method == "POST" and form.is_valid():
        filled = [f for f in action_forms if f.has_changed()]
        if all(f.is_valid() for f in filled):
            services.procedure_review_record(
                form, [f.cleaned_data for f in filled], actor=request.user
            )
            messages.success(request, "Review recorded.")
            return redirect("reports:reviews")
    reviews = selectors.procedure_reviews()
    return render(
        request,
        "reports/reviews.html",
        {
            "form": form,
            "action_forms": action_forms,
            "reviews": reviews,
            "due": selectors.review_due_date(),
            "today": timezone.localdate(),
        },
    )


@require_POST
@capability_required(Capability.VIEW_REPORTS)
def action_status(request, pk):
    action = get_object_or_404(ImprovementAction, pk=pk)
    form = forms.ActionStatusForm(request.POST)
    if form.is_valid():
        services.improvement_action_status_set(action, form.cleaned_data["status"])
        messages.success(request, "Action updated.")
    return redirect("reports:reviews")


@capability_required(Capability.VIEW_REPORTS)
def return_list(request):
    today = timezone.localdate()
    # The last half-year that has ended, or (?half=current) the one running, to date.
    if request.GET.get("half") == "current":
        first, last = returns.half_year_containing(today)
    else:
        first, last = returns.last_half_year(today)
    form = forms.ReturnForm(initial={"first_day": first, "last_day": last})
    runs = ReturnRun.objects.select_related("profile", "produced_by")[:100]
    return render(request, "reports/returns.html", {"form": form, "runs": runs})


@require_POST
@capability_required(Capability.VIEW_REPORTS)
def return_produce(request):
    form = forms.ReturnForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose a profile and the first and last day of the period.")
        return redirect("reports:returns")
    data = form.cleaned_data
    try:
        run = services.return_produce(
            data["profile"], data["first_day"], data["last_day"], actor=request.user
        )
    except Refused as error:
        messages.error(request, error.message)
        return redirect("reports:returns")
    messages.success(request, f"Return produced in {run.build_ms} ms.")
    return redirect("reports:return", pk=run.pk)


@capability_required(Capability.VIEW_REPORTS)
def return_detail(request, pk):
    run = get_object_or_404(ReturnRun.objects.select_related("profile", "produced_by"), pk=pk)
    return render(
        request,
        "reports/return_detail.html",
        {"run": run, "f": run.figures, "bands": returns.FCA_BANDS},
    )


def _return_download(pk, extension):
    """The run and its return, read from the records as they are now, and the file's name."""
    run = get_object_or_404(ReturnRun.objects.select_related("profile", "profile__calendar"), pk=pk)
    period = returns.period_of(run.profile, run.first_day, run.last_day)
    contents = returns.return_contents(run.profile, period)
    name = f"{run.kind}-return-{run.profile.code}-{run.first_day}-{run.last_day}.{extension}"
    return run, contents, name


@capability_required(Capability.VIEW_REPORTS)
def return_csv(request, pk):
    """The run's return as a CSV. Cells a spreadsheet would run as a formula are defused in
    every file, the CFPB one too: our import reads the defused cells back as they were."""
    _, contents, name = _return_download(pk, "csv")
    security_event_record(SecurityEventKind.DATA_EXPORTED, request=request, detail=name)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    writer = csv.writer(response)
    writer.writerow(contents.columns)
    for row in contents.rows:
        writer.writerow([spreadsheet_safe(value) for value in row])
    return response


@capability_required(Capability.VIEW_REPORTS)
def return_xlsx(request, pk):
    """The run's return as an Excel workbook: the CSV's rows and columns, numbers and dates
    typed, every text a string cell (a narrative starting with "=" stays text)."""
    run, contents, name = _return_download(pk, "xlsx")
    try:
        workbook = xlsx_workbook(f"{run.kind.upper()} return", contents.columns, contents.rows)
    except TooManyRows as error:
        messages.error(request, error.message)
        return redirect("reports:return", pk=run.pk)
    security_event_record(SecurityEventKind.DATA_EXPORTED, request=request, detail=name)
    response = HttpResponse(workbook, content_type=XLSX_CONTENT_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
