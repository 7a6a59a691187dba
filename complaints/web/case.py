"""The complaint's own pages: logging one, its page with the actions this user may take now,
the edit form, consultations and documents. Every change goes through a service."""

from dataclasses import dataclass

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
from complaints.links import without_customer_links
from complaints.models import FlagKind, MessageStatus, ResolutionStatus
from complaints.permissions import (
    Action,
    attachment_for,
    can_act,
    can_see,
    complaint_for,
    consultation_for,
    message_for,
)
from complaints.uploads import UploadRejected
from complaints.web import forms
from complaints.workflow import (
    EXIT_STAGES,
    PROCEDURE,
    Refused,
    Stage,
    join_phrases,
    missing_for,
    next_stage,
    requirements_for,
    transitions_from,
)

FORM_DRIVEN_STAGES = {
    Stage.ACKNOWLEDGED,
    Stage.RESOLVED,
    Stage.FOLLOW_UP,
    Stage.REVIEWED,
    *EXIT_STAGES,
}


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
                flags=form.flags(),
                submission=(request.user, token) if token else None,
                catalogue=form.catalogue,
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


@dataclass
class Offer:
    """An action the case page offers: its form, or why the record is not ready for it."""

    action: str  # the last part of the action's URL (ACTIONS)
    title: str
    button: str
    form: object = None
    key: str = ""  # unique on the page
    blocked: str = ""
    transition: object = None
    multipart: bool = False

    def __post_init__(self):
        self.key = self.key or self.action


# Each action's heading and button, wherever the page shows it.
OFFER_TEXT = {
    "take": ("Take this complaint", "Take this complaint"),
    "send_acknowledgment": ("Acknowledge by email", "Send the acknowledgment email"),
    "acknowledge": ("Acknowledge the customer", "Record acknowledgment"),
    "propose": ("Propose a resolution", "Propose"),
    "consult": ("Consult another department", "Send question"),
    "approve": ("Approve the resolution", "Record decision"),
    "customer_response": ("Customer's answer to the resolution", "Record answer"),
    "implement": ("Implement the resolution", "Record implementation"),
    "feedback": ("Customer feedback", "Record feedback"),
    "review": ("Review and sign off", "Sign off"),
    "root_cause": ("Root cause", "Set root cause"),
    "outcome": ("Outcome", "Record outcome"),
    "note": ("Add a note", "Add note"),
    "attach": ("Attach a document", "Upload"),
    "assign": ("Assign", "Assign"),
    "escalate": ("Escalate", "Escalate"),
    "flag": ("Flag a vulnerable customer or hardship", "Set flag"),
}
# The step that moves each stage on, in the order the page prefers it as the one primary
# action; a move without a form of its own is keyed by its target.
PRIMARY = {
    Stage.RECEIVED: ("send_acknowledgment", "acknowledge"),
    Stage.ACKNOWLEDGED: ("move-investigating",),
    Stage.INVESTIGATING: ("propose",),
    Stage.RESOLVED: ("approve", "customer_response", "implement"),
    Stage.FOLLOW_UP: ("move-documented",),
    Stage.DOCUMENTED: ("review",),
}
# What a missing requirement of the next stage is supplied with, on the page itself.
FIXES = {
    "root_cause": "root_cause",
    "outcome": "outcome",
    "investigation_record": "note",
    "feedback": "feedback",
}
# While investigating, the record can already be made ready for Documented.
EARLY_FIXES = {Stage.INVESTIGATING, Stage.RESOLVED}


def _offers(complaint, user, facts, live, acknowledgment_queued, team):
    """Every action this user may take on the complaint now; a stage move the record is not
    ready for carries what it still needs (the workflow's own list) instead of a live form."""
    stage = Stage(complaint.stage)
    initial = {"expected_stage": complaint.stage}
    offers = {}

    def offer(action_permission, action, form=None, **extra):
        if can_act(user, complaint, action_permission):
            title, button = OFFER_TEXT.get(action, (extra.get("key"), extra.get("key")))
            made = Offer(action, title, button, form, **extra)
            offers[made.key] = made

    offer(Action.TAKE, "take")
    # While the email goes, an acknowledgment recorded by hand would be refused the moment
    # the delivery acknowledges the complaint.
    if stage == Stage.RECEIVED and not acknowledgment_queued:
        if complaint.customer_email:
            offer(Action.ACKNOWLEDGE, "send_acknowledgment")
        offer(Action.ACKNOWLEDGE, "acknowledge", forms.AcknowledgeForm(initial=initial))
    if stage == Stage.INVESTIGATING:
        offer(Action.PROPOSE_RESOLUTION, "propose", forms.ResolutionForm(initial=initial))
        offer(Action.CONSULT, "consult", forms.ConsultationForm(team=team))
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
    if can_act(user, complaint, Action.TRANSITION):
        # Plain moves; acknowledging, proposing, implementing and reviewing have forms above.
        for move in transitions_from(stage, workflow_role(user)):
            if move.target in FORM_DRIVEN_STAGES:
                continue
            missing = missing_for(move.target, facts)
            offers[f"move-{move.target}"] = Offer(
                "transition",
                move.verb,
                move.verb,
                forms.TransitionForm(initial={**initial, "to": move.target}),
                key=f"move-{move.target}",
                transition=move,
                blocked=f"Needs {join_phrases(missing)} first." if missing else "",
            )
    if complaint.root_cause_id is None and stage in {*EARLY_FIXES, Stage.FOLLOW_UP}:
        offer(Action.EDIT, "root_cause", forms.RootCauseForm())
    if stage in {*EARLY_FIXES, Stage.FOLLOW_UP, Stage.DOCUMENTED}:
        # Until a manager signs the case off, a wrong outcome can still be put right.
        offer(Action.EDIT, "outcome", forms.OutcomeForm(complaint=complaint))
    offer(Action.NOTE, "note", forms.NoteForm())
    offer(Action.ATTACH, "attach", forms.AttachmentForm(), multipart=True)
    unset = [kind for kind in FlagKind.values if not getattr(complaint, kind)]
    if unset:
        offer(Action.FLAG, "flag", forms.FlagForm(unset=unset))
    offer(
        Action.ASSIGN,
        "assign",
        forms.AssignForm(initial={"assignee": complaint.assignee_id}, team=team),
    )
    if complaint.is_open:
        offer(
            Action.ESCALATE,
            "escalate",
            forms.EscalateForm(current=complaint.escalation_level),
        )
    return offers


def _waiting(complaint, live, acknowledgment_queued):
    """What the case waits for when this user has no step to take."""
    if acknowledgment_queued:
        return (
            "The acknowledgment email to the customer is on its way: the complaint moves to "
            "Acknowledged by itself once it is delivered."
        )
    if live and live.status == ResolutionStatus.AWAITING_APPROVAL:
        return "Waiting for a manager to approve the proposed resolution."
    if live and live.status == ResolutionStatus.PROPOSED:
        return "Waiting for the customer's answer to the proposed resolution."
    if complaint.stage == Stage.DOCUMENTED:
        return "Waiting for a manager's review and sign-off."
    if complaint.stage == Stage.REVIEWED:
        return "Reviewed and signed off: the complaint is closed."
    if complaint.stage in EXIT_STAGES:
        return "Closed without a resolution: nothing more to do."
    return "Nothing for you to do at this step."


def case_plan(complaint, user, bound=None, team=None):
    """The case page's plan: where the case is, its one next step, what the next stage still
    needs (each with its fix), and the other actions, folded. `team`: the colleagues the
    assign and consult forms offer, if read already."""
    stage = Stage(complaint.stage)
    facts = services.case_facts(complaint)
    live = next(
        (r for r in complaint.resolutions.all() if r.status in services.LIVE_RESOLUTION), None
    )
    acknowledgment_queued = (
        stage == Stage.RECEIVED and selectors.acknowledgment_email_on_its_way(complaint) is not None
    )
    offers = _offers(complaint, user, facts, live, acknowledgment_queued, team)
    for key, form in (bound or {}).items():
        if key in offers:
            offers[key].form = form
    primary = None
    if not acknowledgment_queued:
        primary = next((offers[key] for key in PRIMARY.get(stage, ()) if key in offers), None)
    used = {"take", primary.key if primary else None}

    def with_fixes(requirements):
        items = []
        for requirement in requirements:
            fix = None
            if not requirement.met and FIXES.get(requirement.key) in offers:
                fix = offers[FIXES[requirement.key]]
                used.add(fix.key)
            items.append((requirement, fix))
        return items

    upcoming = next_stage(stage)
    checklist = with_fixes(requirements_for(upcoming, facts)) if upcoming else []
    early = []
    if stage in EARLY_FIXES:
        early = with_fixes(
            r
            for r in requirements_for(Stage.DOCUMENTED, facts)
            if not r.met and r.key in FIXES and FIXES[r.key] in offers
        )
    # The last stage, once reached, is as done as the ones before it. An exit left the path:
    # the case page names it instead of a stepper.
    steps = []
    if stage in PROCEDURE:
        reached = PROCEDURE.index(stage) + (stage == PROCEDURE[-1])
        steps = [
            (
                step,
                "done" if i < reached else "current" if step == stage else "to do",
                step == stage,
            )
            for i, step in enumerate(PROCEDURE)
        ]
    return {
        "steps": steps,
        "upcoming": upcoming,
        "primary": primary,
        "take": offers.get("take"),
        "waiting": None if primary else _waiting(complaint, live, acknowledgment_queued),
        "checklist": checklist,
        "early": early,
        "folded": [offer for key, offer in offers.items() if key not in used],
        "can_edit": can_act(user, complaint, Action.EDIT),
        "live": live,
    }


EXIT_FORMS = {
    Stage.WITHDRAWN: ("withdraw", forms.WithdrawForm),
    Stage.DUPLICATE: ("merge", forms.MergeForm),
    Stage.NOT_A_COMPLAINT: ("not_a_complaint", forms.NotAComplaintForm),
}


def _exit_forms(complaint, user, initial):
    """The exits the transition table allows this user from this stage, each its own form."""
    if not can_act(user, complaint, Action.EXIT):
        return {}
    exits = {}
    for transition in transitions_from(Stage(complaint.stage), workflow_role(user)):
        if transition.target in EXIT_FORMS:
            name, form_class = EXIT_FORMS[transition.target]
            exits[name] = form_class(
                initial={**initial, "withdrawn_on": timezone.localdate()}, prefix=name
            )
    return exits


def _detail_context(request, complaint, bound=None):
    # Read once: the assign and consult forms offer them, and the timeline names them.
    team = list(selectors.team_members())
    plan = case_plan(complaint, request.user, bound, team)
    exits = _exit_forms(complaint, request.user, {"expected_stage": complaint.stage})
    for name, form in (bound or {}).items():
        if name in exits:
            exits[name] = form
    now = timezone.now()
    ack_text, ack_overdue = countdown(complaint.acknowledgment_due_at, now)
    target_text, target_overdue = countdown(
        complaint.resolution_target_date, timezone.localtime(now)
    )
    return {
        "complaint": complaint,
        "clocks": _clock_rows(complaint, now),
        "can_manage_clocks": can_act(request.user, complaint, Action.MANAGE_CLOCKS),
        "profile_form": (bound or {}).get("change_profile")
        or forms.ProfileChangeForm(initial={"profile": complaint.profile_id}),
        "timeline": selectors.complaint_timeline(complaint, people=team),
        "plan": plan,
        "actions": exits,
        "can_write": can_act(request.user, complaint, Action.NOTE),
        "live_resolution": plan["live"],
        "review": getattr(complaint, "review", None),
        "ack_countdown": (ack_text, ack_overdue),
        "target_countdown": (target_text, target_overdue),
        "attachments": complaint.attachments.all(),
        "live_flags": [flag for flag in complaint.flags.all() if flag.is_live],
        "can_flag": can_act(request.user, complaint, Action.FLAG),
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


@dataclass(frozen=True)
class ClockRow:
    clock: object
    countdown: str
    overdue: bool


def _clock_rows(complaint, now):
    """Each clock of the case with its countdown (running) or its outcome (stopped)."""
    rows = []
    for clock in complaint.clocks.all():
        text, overdue = "", False
        if clock.stopped_at is None and clock.paused_at is None:
            text, overdue = countdown(clock.due_at, now)
        rows.append(ClockRow(clock, text, overdue))
    return rows


def complaint_detail(request, pk):
    complaint = complaint_for(request.user, pk, selectors.complaint_detail_queryset())
    # Opened: what was new on it for this person is not new any more.
    services.signals_seen(complaint, request.user)
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
        key = action_name
        if action_name == "transition":
            key = f"move-{form.data.get('to', '')}"
        context = _detail_context(request, complaint, bound={key: form})
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
    "withdraw": (
        forms.WithdrawForm,
        lambda r, c, d: services.complaint_withdraw(
            c,
            actor=r.user,
            customer_words=d["customer_words"],
            withdrawn_on=d["withdrawn_on"],
            expected_stage=d["expected_stage"],
        ),
        "Withdrawal recorded; the complaint is closed.",
    ),
    "not_a_complaint": (
        forms.NotAComplaintForm,
        lambda r, c, d: services.complaint_not_a_complaint(
            c, actor=r.user, reason=d["reason"], expected_stage=d["expected_stage"]
        ),
        "Closed as not a complaint.",
    ),
    "root_cause": (
        forms.RootCauseForm,
        lambda r, c, d: services.complaint_update(
            c, actor=r.user, changes={"root_cause": d["root_cause"]}
        ),
        "Root cause set.",
    ),
    "flag": (
        forms.FlagForm,
        lambda r, c, d: services.flag_set(c, d["kind"], actor=r.user, reason=d["reason"]),
        "Flag set.",
    ),
    "clear_flag": (
        forms.FlagClearForm,
        lambda r, c, d: services.flag_clear(c, d["kind"], actor=r.user, reason=d["reason"]),
        "Flag cleared.",
    ),
    "outcome": (
        forms.OutcomeForm,
        lambda r, c, d: services.complaint_outcome_record(c, actor=r.user, outcome=d["outcome"]),
        "Outcome recorded.",
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
    "change_profile": (
        forms.ProfileChangeForm,
        lambda r, c, d: services.complaint_profile_change(
            c, actor=r.user, profile=d["profile"], reason=d["reason"]
        ),
        "Profile changed; the clocks were recomputed.",
    ),
    "pause_clock": (
        forms.ClockPauseForm,
        lambda r, c, d: services.clock_pause(c, d["clock"], actor=r.user, reason=d["reason"]),
        "Clock paused.",
    ),
    "resume_clock": (
        forms.ClockResumeForm,
        lambda r, c, d: services.clock_resume(c, d["clock"], actor=r.user),
        "Clock resumed.",
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
    if action == "merge":
        return _merge(request, complaint)
    if action not in ACTIONS:
        raise Http404
    form_class, call, success = ACTIONS[action]
    # The exits' forms share the page with others that have fields of the same name.
    prefix = action if action in {name for name, _ in EXIT_FORMS.values()} else None
    extra = {"complaint": complaint} if form_class is forms.OutcomeForm else {}
    form = form_class(request.POST, prefix=prefix, **extra) if form_class else None
    return _run(request, complaint, action, form, lambda d: call(request, complaint, d), success)


def _merge(request, complaint):
    """Merge in two steps: the first submit shows both cases side by side, the second (from
    that page) merges. A merge the rules refuse is refused on the first step."""
    form = forms.MergeForm(request.POST, prefix="merge")
    if form.is_valid() and not form.cleaned_data["confirmed"]:
        data = form.cleaned_data
        try:
            survivor = services.complaint_merge_check(
                complaint, actor=request.user, into_reference=data["into"]
            )
        except Refused as error:
            messages.error(request, error.message)
            return redirect("complaints:detail", pk=complaint.pk)
        return render(
            request,
            "complaints/case/merge_confirm.html",
            {
                "complaint": complaint,
                "survivor": survivor,
                "form": forms.MergeForm(initial={**data, "confirmed": True}, prefix="merge"),
                "moving": services.merge_contents(complaint),
            },
        )
    return _run(
        request,
        complaint,
        "merge",
        form,
        lambda d: services.complaint_merge(
            complaint,
            actor=request.user,
            into_reference=d["into"],
            reason=d["reason"],
            expected_stage=d["expected_stage"],
        ),
        "Merged; the complaint is closed as a duplicate.",
    )


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


def message_detail(request, pk):
    """An email as it was written, for staff who may see its complaint."""
    message = message_for(request.user, pk)
    return render(
        request,
        "complaints/message.html",
        {
            "message": message,
            "complaint": message.complaint,
            "body": without_customer_links(message.body_text),
            "status": selectors.message_status_text(message),
            "can_post": message.status == MessageStatus.AWAITING_PRINT
            and can_act(request.user, message.complaint, Action.NOTE),
        },
    )


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
