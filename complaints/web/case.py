"""The complaint's own pages: logging one, its page with the actions this user may take now,
the edit form, consultations and documents. Every change goes through a service."""

from django.contrib import messages
from django.db import transaction
from django.http import FileResponse, Http404, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from accounts.decorators import capability_required
from accounts.models import SecurityEventKind
from accounts.roles import Capability, workflow_role
from accounts.services import security_event_record
from complaints import selectors, services
from complaints.clocks import countdown
from complaints.models import MessageKind, ResolutionStatus
from complaints.permissions import (
    Action,
    attachment_for,
    can_act,
    can_see,
    complaint_for,
    consultation_for,
)
from complaints.uploads import UploadRejected
from complaints.web import forms
from complaints.workflow import Refused, Stage, transitions_from

FORM_DRIVEN_STAGES = {Stage.ACKNOWLEDGED, Stage.RESOLVED, Stage.FOLLOW_UP, Stage.REVIEWED}


@capability_required(Capability.LOG_COMPLAINT)
def complaint_create(request):
    form = forms.ComplaintIntakeForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        data = {name: form.cleaned_data[name] for name in form.Meta.fields}
        token = form.cleaned_data["submission"]
        try:
            complaint, new = services.complaint_create_once(
                actor=request.user,
                data=data,
                uploads=form.cleaned_data["attachments"],
                assign_to_actor=form.cleaned_data["assign_to_me"],
                submission=(request.user, token) if token else None,
            )
        except UploadRejected as error:
            form.add_error("attachments", error.message)
        except Refused as error:
            form.add_error(None, error.message)
        else:
            if new:
                messages.success(request, f"Complaint {complaint.reference} logged.")
            else:
                messages.info(
                    request,
                    f"This form was already sent: it logged complaint {complaint.reference}, "
                    "and nothing more was logged.",
                )
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
    # Once the customer has answered this round, a form to answer for them would only be
    # refused (or, worse, read as the customer's word).
    if stage == Stage.FOLLOW_UP and not complaint.has_feedback_this_round():
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


def consultation_detail(request, pk):
    consultation = consultation_for(request.user, pk)
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
    consultation = consultation_for(request.user, pk)
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
    attachment = attachment_for(request.user, pk)
    path = services.attachment_path(attachment)
    if not path.exists():
        raise Http404
    security_event_record(
        SecurityEventKind.FILE_DOWNLOADED,
        request=request,
        detail=f"{attachment.complaint.reference}: {attachment.original_name}"[:500],
    )
    response = FileResponse(
        open(path, "rb"),  # noqa: SIM115  (FileResponse closes it)
        as_attachment=True,
        filename=attachment.original_name,
        content_type=attachment.content_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response
