import csv
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.contrib import messages
from django.db import transaction
from django.http import FileResponse, Http404, HttpResponseRedirect, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html_join
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from accounts.decorators import capability_required
from accounts.roles import Capability, can, workflow_role
from complaints import forms, jobs, selectors, services
from complaints.clocks import countdown
from complaints.imports import ImportFailed, import_cfpb
from complaints.models import (
    Attachment,
    Category,
    Channel,
    Consultation,
    EscalationLevel,
    JobRun,
    MessageKind,
    ResolutionStatus,
)
from complaints.permissions import Action, can_act, can_see, complaint_for
from complaints.uploads import UploadRejected
from complaints.workflow import STAGE_LABELS, Refused, Stage, transitions_from
from reports.selectors import dashboard_cached

PAGE_SIZE = 25
FORM_DRIVEN_STAGES = {Stage.ACKNOWLEDGED, Stage.RESOLVED, Stage.FOLLOW_UP, Stage.REVIEWED}


# What a row of a queue or list shows; loading whole complaints (their texts, two dozen dates)
# for fifty rows costs more than rendering them.
ROW_FIELDS = (
    "reference",
    "customer_name",
    "channel",
    "stage",
    "next_deadline_at",
    "acknowledgment_breached_at",
    "resolution_overdue_at",
    "escalation_level",
    "escalation_reason",
    "assignee_id",
    "category__name",
    "assignee__username",
    "assignee__first_name",
    "assignee__last_name",
)
# A number no real path holds, reversed once per page and replaced per row: reversing a URL
# costs tens of microseconds, twice a row.
_PK_MARKER = 987654321


def _url_maker(name, *rest):
    pattern = reverse(name, args=[_PK_MARKER, *rest]).replace(str(_PK_MARKER), "{}", 1)
    return pattern.format


@dataclass(frozen=True, slots=True)
class Row:
    """What a queue or list row shows, as plain text: the table renders fifty of these per
    page, and each lookup through a model in the template costs more than computing it here."""

    pk: int
    reference: str
    url: str
    take_url: str
    assign_url: str
    due_text: str
    overdue: bool
    deadline: str
    deadline_what: str
    stage: str
    customer: str
    category: str
    channel: str
    assignee: str
    assignee_id: int | None
    awaiting_approval: bool
    acknowledgment_missed: bool
    target_missed: bool
    escalation_reason: str | None
    escalated_to: str


ESCALATED_TO = {EscalationLevel.TEAM: "to team", EscalationLevel.MANAGER: "to managers"}


def _rows(complaints, now):
    detail_url, take_url = _url_maker("complaints:detail"), _url_maker("complaints:action", "take")
    assign_url = _url_maker("complaints:action", "assign")
    rows = []
    for complaint in complaints:
        stage_label = complaint.stage_label
        received = complaint.stage == Stage.RECEIVED
        what = "acknowledgment" if received else "resolution"
        if complaint.next_deadline_at is None:
            due_text, overdue, deadline = stage_label.lower(), False, ""
        else:
            text, overdue = countdown(complaint.next_deadline_at, now)
            due_text = f"{what} {text}"
            deadline = timezone.localtime(complaint.next_deadline_at).isoformat()
        rows.append(
            Row(
                pk=complaint.pk,
                reference=complaint.reference,
                url=detail_url(complaint.pk),
                take_url=take_url(complaint.pk),
                assign_url=assign_url(complaint.pk),
                due_text=due_text,
                overdue=overdue,
                deadline=deadline,
                deadline_what=what,
                stage=stage_label,
                customer=complaint.customer_name,
                category=complaint.category.name,
                channel=complaint.get_channel_display(),
                assignee=str(complaint.assignee) if complaint.assignee_id else "—",
                assignee_id=complaint.assignee_id,
                awaiting_approval=getattr(complaint, "awaiting_approval", False),
                acknowledgment_missed=bool(complaint.acknowledgment_breached_at) and received,
                target_missed=bool(complaint.resolution_overdue_at),
                escalation_reason=(
                    complaint.escalation_reason if complaint.escalation_level else None
                ),
                escalated_to=ESCALATED_TO.get(complaint.escalation_level, ""),
            )
        )
    return rows


QUEUE_LENGTH = 25


def _queue(title, queryset, now, *, more=None, take=False, assign=False, why=False, empty_text=""):
    queryset = (
        queryset.select_related("category", "assignee")
        .only(*ROW_FIELDS)
        .order_by("next_deadline_at", "id")
    )
    rows = _rows(queryset[: QUEUE_LENGTH + 1], now)
    return {
        "title": title,
        "rows": rows[:QUEUE_LENGTH],
        "truncated": len(rows) > QUEUE_LENGTH,
        "more": more,
        "take": take,
        "assign": assign,
        "why": why,
        "empty_text": empty_text,
    }


@capability_required(Capability.LOG_COMPLAINT)
def home(request):
    """Each role starts on what it must do next; managers on escalations and the numbers."""
    user, now = request.user, timezone.now()
    context = {"queues": [], "consultations": selectors.consultations_waiting_for(user)}
    queues = context["queues"]
    if can(user, Capability.SEE_ALL_COMPLAINTS):
        queues.append(
            _queue(
                "Escalation queue",
                selectors.complaints_escalation_queue(user),
                now,
                more="?queue=escalations",
                assign=True,
                why=True,
                empty_text="Nothing overdue, escalated or waiting for approval.",
            )
        )
        context["workload"] = selectors.team_workload(user, now)
        context["dashboard"] = dashboard_cached(now)
    else:
        if can(user, Capability.WORK_INTAKE_QUEUE):
            queues.append(
                _queue(
                    "Intake queue",
                    selectors.complaints_intake_queue(user),
                    now,
                    more="?assignee=none",
                    take=True,
                    assign=True,
                )
            )
        if can(user, Capability.WORK_ESCALATED_TO_TEAM):
            queues.append(
                _queue(
                    "Escalated to the resolution team",
                    selectors.complaints_escalated_to_team(user),
                    now,
                    more="?escalated=team&assignee=not_me",
                    take=True,
                )
            )
    queues.append(
        _queue("My complaints", selectors.complaints_assigned_to(user), now, more="?assignee=me")
    )
    if any(queue["assign"] and queue["rows"] for queue in queues):
        # Rendered once, not once per row: a select of the whole team in each of 25 rows
        # would cost more than the rest of the page.
        context["assign_options"] = format_html_join(
            "", '<option value="{}">{}</option>', ((p.pk, str(p)) for p in selectors.team_members())
        )
    return render(request, "complaints/home.html", context)


def _filtered(request):
    form = forms.ComplaintFilterForm(request.GET or None)
    filters = form.filters() if request.GET else forms.ListFilters()
    return form, filters, selectors.complaints_filtered(request.user, filters)


@capability_required(Capability.LOG_COMPLAINT)
def complaint_list(request):
    form, filters, queryset = _filtered(request)
    page_number = _page_number(request)
    start = (page_number - 1) * PAGE_SIZE
    # One row more than the page tells whether there is a next page, without counting
    # a million rows.
    complaints = list(
        queryset.select_related("category", "assignee").only(*ROW_FIELDS)[
            start : start + PAGE_SIZE + 1
        ]
    )
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "complaints/list.html",
        {
            "form": form,
            "filters": filters,
            "scope": _scope(filters),
            "why": filters.queue == "escalations",
            "rows": _rows(complaints[:PAGE_SIZE], timezone.now()),
            "page_number": page_number,
            "has_next": len(complaints) > PAGE_SIZE,
            "query_string": query.urlencode(),
            "assignees": selectors.team_members(),
            # Plain pairs: a widget renders hundreds of options (the CFPB taxonomy) slowly.
            "categories": Category.objects.filter(parent=None).values_list("pk", "name"),
        },
    )


ACKNOWLEDGMENT_SCOPES = {
    "due": "acknowledgment due (acknowledged, or past the deadline)",
    "on_time": "acknowledged on time",
    "late": "acknowledged late or not at all by the deadline",
    "done": "acknowledged",
}


def _scope(filters):
    """The filters a link from the home page set that the form has no control for, in words
    and as the hidden inputs that keep them when the form is applied again."""
    scope = []
    if selectors.REFERENCE_PATTERN.match(filters.query.strip()):
        return scope  # a reference search ignores every other filter
    if filters.queue == "escalations":
        scope.append(
            (
                "queue",
                "escalations",
                "the escalation queue: missed deadlines, escalations "
                "to managers and resolutions waiting for approval",
            )
        )
    if filters.acknowledgment in ACKNOWLEDGMENT_SCOPES:
        words = ACKNOWLEDGMENT_SCOPES[filters.acknowledgment]
        scope.append(("acknowledgment", filters.acknowledgment, words))
    for name, words in (("resolved_from", "resolved"), ("feedback_from", "feedback given")):
        if day := getattr(filters, name):
            scope.append((name, day.isoformat(), f"{words} since {day:%-d %b %Y}"))
    return scope


def _page_number(request):
    try:
        return max(1, min(int(request.GET.get("page", 1)), 10_000))
    except ValueError:
        return 1


CSV_COLUMNS = [
    ("Reference", "reference"),
    ("Stage", "stage"),
    ("Received", "received_at"),
    ("Customer", "customer_name"),
    ("Email", "customer_email"),
    ("Phone", "customer_phone"),
    ("Channel", "channel"),
    ("Category", "category__name"),
    ("Product", "product__name"),
    ("Assignee", "assignee__username"),
    ("Escalated to", "escalation_level"),
    ("Acknowledgment due", "acknowledgment_due_at"),
    ("Acknowledged", "acknowledged_at"),
    ("Acknowledged late by (hours)", None),
    ("Resolution target", "resolution_target_date"),
    ("Description", "description"),
]
# Spreadsheets show what people read on the pages, not the stored codes.
CSV_LABELS = {
    "stage": {stage.value: label for stage, label in STAGE_LABELS.items()},
    "channel": dict(Channel.choices),
    "escalation_level": dict(EscalationLevel.choices),
}
# Excel takes a UTF-8 file without it for the local code page and garbles names.
UTF8_BOM = "\ufeff"


class _Echo:
    def write(self, value):
        return value


@capability_required(Capability.LOG_COMPLAINT)
def complaint_export(request):
    _, _, queryset = _filtered(request)
    writer = csv.writer(_Echo())
    fields = [field for _, field in CSV_COLUMNS if field]
    late_at = [field for _, field in CSV_COLUMNS].index(None)
    due_at, acknowledged_at = fields.index("acknowledgment_due_at"), fields.index("acknowledged_at")

    def cells(record):
        values = [
            CSV_LABELS[field].get(value, value) if field in CSV_LABELS else value
            for field, value in zip(fields, record, strict=True)
        ]
        acknowledgment_due, acknowledged = record[due_at], record[acknowledged_at]
        late = ""
        if acknowledged and acknowledgment_due and acknowledged > acknowledgment_due:
            late = f"{(acknowledged - acknowledgment_due).total_seconds() / 3600:.1f}"
        values.insert(late_at, late)
        return [spreadsheet_safe(value) for value in values]

    def rows():
        yield UTF8_BOM + writer.writerow([label for label, _ in CSV_COLUMNS])
        for record in queryset.values_list(*fields).iterator(chunk_size=2000):
            yield writer.writerow(cells(record))

    response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="complaints-{stamp}.csv"'
    return response


def spreadsheet_safe(value):
    """Cells a spreadsheet would run as a formula get a leading apostrophe."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = timezone.localtime(value).strftime("%Y-%m-%d %H:%M")
    text = str(value)
    if text and text[0] in "=+-@\t\r":
        return "'" + text
    return text


@capability_required(Capability.LOG_COMPLAINT)
def complaint_create(request):
    form = forms.ComplaintIntakeForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        data = {name: form.cleaned_data[name] for name in form.Meta.fields}
        try:
            complaint = services.complaint_create(
                actor=request.user,
                data=data,
                uploads=form.cleaned_data["attachments"],
                assign_to_actor=form.cleaned_data["assign_to_me"],
            )
        except UploadRejected as error:
            form.add_error("attachments", error.message)
        except Refused as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, f"Complaint {complaint.reference} logged.")
            return redirect("complaints:detail", pk=complaint.pk)
    return render(
        request, "complaints/create.html", {"form": form}, status=400 if form.errors else 200
    )


def _action_forms(complaint, user):
    """One form per action this user may take now; templates show exactly these."""
    stage = Stage(complaint.stage)
    initial = {"expected_stage": complaint.stage}
    live = next(
        (r for r in complaint.resolutions.all() if r.status in services.LIVE_RESOLUTION), None
    )
    available = {}

    def offer(action, name, form):
        if can_act(user, complaint, action):
            available[name] = form

    offer(Action.TAKE, "take", None)
    offer(Action.ASSIGN, "assign", forms.AssignForm(initial={"assignee": complaint.assignee_id}))
    if complaint.is_open:
        offer(Action.ESCALATE, "escalate", forms.EscalateForm())
    if stage == Stage.RECEIVED:
        offer(Action.ACKNOWLEDGE, "acknowledge", forms.AcknowledgeForm(initial=initial))
        if complaint.customer_email and not any(
            m.kind == MessageKind.ACKNOWLEDGMENT for m in complaint.messages.all()
        ):
            offer(Action.ACKNOWLEDGE, "send_acknowledgment", None)
    if stage == Stage.INVESTIGATING:
        offer(Action.PROPOSE_RESOLUTION, "propose", forms.ResolutionForm(initial=initial))
        offer(Action.CONSULT, "consult", forms.ConsultationForm())
    if live and live.status == ResolutionStatus.AWAITING_APPROVAL:
        offer(Action.APPROVE_RESOLUTION, "approve", forms.ApprovalForm())
    if live and live.status == ResolutionStatus.PROPOSED:
        offer(Action.RECORD_CUSTOMER_RESPONSE, "customer_response", forms.CustomerResponseForm())
    if live and live.status == ResolutionStatus.ACCEPTED:
        offer(Action.IMPLEMENT_RESOLUTION, "implement", forms.ImplementForm())
    if stage == Stage.FOLLOW_UP:
        offer(Action.RECORD_FEEDBACK, "feedback", forms.FeedbackForm())
    if stage == Stage.DOCUMENTED:
        offer(Action.REVIEW, "review", forms.ReviewForm())
    offer(Action.EDIT, "edit", None)
    offer(Action.NOTE, "note", forms.NoteForm())
    offer(Action.ATTACH, "attach", forms.AttachmentForm())
    # Plain moves; acknowledging, proposing, implementing and reviewing have forms above.
    moves = []
    if can_act(user, complaint, Action.TRANSITION):
        moves = [
            t
            for t in transitions_from(stage, workflow_role(user))
            if t.target not in FORM_DRIVEN_STAGES
        ]
    available["moves"] = [
        (t, forms.TransitionForm(initial={**initial, "to": t.target})) for t in moves
    ]
    return available, live


def _detail_context(request, complaint, bound=None):
    actions, live = _action_forms(complaint, request.user)
    if bound:
        actions.update(bound)
    now = timezone.now()
    ack_text, ack_overdue = countdown(complaint.acknowledgment_due_at, now)
    target_text, target_overdue = countdown(
        complaint.resolution_target_date, timezone.localtime(now)
    )
    return {
        "complaint": complaint,
        "timeline": selectors.complaint_timeline(complaint),
        "actions": actions,
        "live_resolution": live,
        "ack_countdown": (ack_text, ack_overdue),
        "target_countdown": (target_text, target_overdue),
        "attachments": complaint.attachments.all(),
        "consultations": complaint.consultations.all(),
        "open_consultations": [
            c
            for c in complaint.consultations.all()
            if c.answered_at is None
            and (
                c.consultee_id == request.user.pk
                or can_act(request.user, complaint, Action.CONSULT)
            )
        ],
    }


def complaint_detail(request, pk):
    complaint = complaint_for(request.user, pk, selectors.complaint_detail_queryset())
    return render(request, "complaints/detail.html", _detail_context(request, complaint))


def complaint_edit(request, pk):
    complaint = complaint_for(request.user, pk)
    if not can_act(request.user, complaint, Action.EDIT):
        raise Http404
    form = forms.ComplaintEditForm(request.POST or None, instance=complaint)
    conflict = None
    if request.method == "POST" and form.is_valid():
        changes = {name: form.cleaned_data[name] for name in form.Meta.fields}
        try:
            services.complaint_update(
                complaint,
                actor=request.user,
                changes=changes,
                expected_version=form.cleaned_data["version"],
            )
        except services.EditConflict as error:
            # What they typed stays in the form; saving it again is now a choice made
            # knowing the other change.
            conflict = error
            form = form.rebased(error.version)
        except Refused as error:
            messages.error(request, error.message)
        else:
            messages.success(request, "Changes saved.")
            return redirect("complaints:detail", pk=pk)
    context = {"form": form, "complaint": complaint, "conflict": conflict}
    return render(request, "complaints/edit.html", context, status=409 if conflict else 200)


def _run(request, complaint, action_name, form, call, success):
    """Validate the form, run the service, and answer with a message or the form's errors."""
    if form is not None and not form.is_valid():
        # The page again, read as complaint_detail reads it: its relations prefetched once.
        complaint = selectors.complaint_detail_queryset().get(pk=complaint.pk)
        context = _detail_context(request, complaint, bound={action_name: form})
        messages.error(request, "Please correct the errors below.")
        return render(request, "complaints/detail.html", context, status=400)
    back_to = request.POST.get("next", "")
    if not back_to.startswith("/") or not url_has_allowed_host_and_scheme(
        back_to, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        back_to = ""
    try:
        with transaction.atomic():
            call(form.cleaned_data if form is not None else {})
    except Refused as error:
        messages.error(request, f"{complaint.reference}: {error}" if back_to else str(error))
    except UploadRejected as error:
        messages.error(request, error.message)
    else:
        # From a queue the user goes on with the queue, told which row changed.
        messages.success(request, f"{complaint.reference}: {success}" if back_to else success)
    # A path, never a URL name: redirect() would try to reverse "foo" and fail after the save.
    return HttpResponseRedirect(back_to or reverse("complaints:detail", args=[complaint.pk]))


ACTIONS = {
    "send_acknowledgment": (
        None,
        lambda r, c, d: services.acknowledgment_email_send(c, actor=r.user),
        "The acknowledgment email is on its way.",
    ),
    "take": (
        None,
        lambda r, c, d: services.complaint_assign(c, actor=r.user, assignee=r.user),
        "You took this complaint.",
    ),
    "assign": (
        forms.AssignForm,
        lambda r, c, d: services.complaint_assign(c, actor=r.user, assignee=d["assignee"]),
        "Assignment saved.",
    ),
    "escalate": (
        forms.EscalateForm,
        lambda r, c, d: services.complaint_escalate(
            c, actor=r.user, level=d["level"], reason=d["reason"]
        ),
        "Complaint escalated.",
    ),
    "acknowledge": (
        forms.AcknowledgeForm,
        lambda r, c, d: services.complaint_acknowledge(
            c, actor=r.user, method=d["method"], note=d["note"], expected_stage=d["expected_stage"]
        ),
        "Acknowledgment recorded.",
    ),
    "transition": (
        forms.TransitionForm,
        lambda r, c, d: services.complaint_transition(
            c, d["to"], actor=r.user, note=d["note"], expected_stage=d["expected_stage"]
        ),
        "Stage changed.",
    ),
    "note": (
        forms.NoteForm,
        lambda r, c, d: services.note_add(c, actor=r.user, text=d["text"]),
        "Note added.",
    ),
    "consult": (
        forms.ConsultationForm,
        lambda r, c, d: services.consultation_request(
            c,
            actor=r.user,
            department=d["department"],
            question=d["question"],
            consultee=d["consultee"],
        ),
        "Consultation sent.",
    ),
    "propose": (
        forms.ResolutionForm,
        lambda r, c, d: services.resolution_propose(
            c,
            actor=r.user,
            type=d["type"],
            amount=d["amount"],
            description=d["description"],
            customer_action=d["customer_action"],
            expected_stage=d["expected_stage"],
        ),
        "Resolution proposed.",
    ),
    "approve": (
        forms.ApprovalForm,
        lambda r, c, d: services.resolution_decide_approval(
            c, actor=r.user, approve=d["decision"] == "approve", note=d["note"]
        ),
        "Decision recorded.",
    ),
    "customer_response": (
        forms.CustomerResponseForm,
        lambda r, c, d: services.resolution_record_customer_response(
            c, actor=r.user, accepted=d["decision"] == "accept", comment=d["comment"]
        ),
        "Customer's answer recorded.",
    ),
    "implement": (
        forms.ImplementForm,
        lambda r, c, d: services.resolution_implement(c, actor=r.user, notes=d["notes"]),
        "Implementation recorded; the complaint is in follow-up.",
    ),
    "feedback": (
        forms.FeedbackForm,
        lambda r, c, d: services.feedback_record(
            c, actor=r.user, score=d["score"], resolved=d["resolved"], comment=d["comment"]
        ),
        "Feedback recorded.",
    ),
    "review": (
        forms.ReviewForm,
        lambda r, c, d: services.review_sign_off(
            c,
            actor=r.user,
            quality_notes=d["quality_notes"],
            lessons=d["lessons"],
            improvement_actions=d["improvement_actions"],
        ),
        "Case reviewed and signed off.",
    ),
}


@require_POST
def complaint_action(request, pk, action):
    complaint = complaint_for(request.user, pk)
    if action == "attach":
        form = forms.AttachmentForm(request.POST, request.FILES)
        return _run(
            request,
            complaint,
            "attach",
            form,
            lambda d: services.attachment_add(complaint, actor=request.user, upload=d["file"]),
            "Document attached.",
        )
    if action not in ACTIONS:
        raise Http404
    form_class, call, success = ACTIONS[action]
    form = form_class(request.POST) if form_class else None
    return _run(request, complaint, action, form, lambda d: call(request, complaint, d), success)


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
    latest = {
        name: JobRun.objects.filter(name=name).order_by("-started_at").first() for name in jobs.JOBS
    }
    schedule = {name: entry["schedule"] for name, entry in settings.CELERY_BEAT_SCHEDULE.items()}
    rows = [(name, latest[name], schedule.get(name)) for name in jobs.JOBS]
    return render(request, "complaints/jobs.html", {"rows": rows})


def _consultation_for(user, pk):
    """A consultee may answer a question about a complaint they cannot otherwise see."""
    consultation = get_object_or_404(Consultation.objects.select_related("complaint"), pk=pk)
    if consultation.consultee_id != user.pk:
        complaint_for(user, consultation.complaint_id)
    return consultation


def consultation_detail(request, pk):
    consultation = _consultation_for(request.user, pk)
    return render(
        request,
        "complaints/consultation.html",
        {
            "consultation": consultation,
            "can_see_case": can_see(request.user, consultation.complaint),
            "form": forms.ConsultationAnswerForm(),
        },
    )


@require_POST
def consultation_answer(request, pk):
    consultation = _consultation_for(request.user, pk)
    form = forms.ConsultationAnswerForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Write an answer before sending it.")
        return redirect("complaints:consultation", pk=pk)
    try:
        services.consultation_answer(
            consultation, actor=request.user, answer=form.cleaned_data["answer"]
        )
    except Refused as error:
        messages.error(request, error.message)
        return redirect("complaints:consultation", pk=pk)
    messages.success(request, "Answer recorded. Thank you.")
    if can_see(request.user, consultation.complaint):
        return redirect("complaints:detail", pk=consultation.complaint_id)
    return redirect("home")


def attachment_download(request, pk):
    attachment = get_object_or_404(Attachment.objects.select_related("complaint"), pk=pk)
    # Same 404 as a missing attachment: the response never tells whether it exists.
    complaint_for(request.user, attachment.complaint_id)
    path = services.attachment_path(attachment)
    if not path.exists():
        raise Http404
    response = FileResponse(
        open(path, "rb"),  # noqa: SIM115  (FileResponse closes it)
        as_attachment=True,
        filename=attachment.original_name,
        content_type=attachment.content_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response
