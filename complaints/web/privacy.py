"""The managers' data-protection pages: find a person's cases, export them (subject access),
request and approve their erasure, place and lift legal holds, and verify the record. Every
change goes through a service; each export is in the security log."""

from django import forms
from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.views.decorators.http import require_POST, require_safe

from accounts.decorators import capability_required
from accounts.models import SecurityEventKind
from accounts.roles import Capability
from accounts.services import security_event_record
from complaints.models import Complaint, ErasureRequest, ErasureStatus, LegalHold
from complaints.selectors.record import record_verify
from complaints.selectors.retention import policies_active, removal_blockers
from complaints.selectors.subject_access import Subject, subject_complaints
from complaints.services.erasure import erasure_approve, erasure_refuse, erasure_request
from complaints.services.record import record_chain_extend
from complaints.services.retention import legal_hold_place, legal_hold_release
from complaints.services.subject_access import subject_access_export
from complaints.workflow import Refused

SHOWN_MATCHES = 200
SHOWN_BREAKS = 200
protected = capability_required(Capability.PROTECT_PERSONAL_DATA)


class SubjectForm(forms.Form):
    email = forms.EmailField(required=False)
    phone = forms.CharField(required=False, max_length=40)
    name = forms.CharField(required=False, max_length=200)

    def clean(self):
        data = super().clean()
        subject = Subject(**{k: (data.get(k) or "").strip() for k in ("email", "phone", "name")})
        if problem := subject.problem():
            raise forms.ValidationError(problem)
        data["subject"] = subject
        return data


class ChosenCasesForm(SubjectForm):
    complaints = forms.TypedMultipleChoiceField(coerce=int, choices=(), required=True)
    reason = forms.CharField(required=False, max_length=2000, widget=forms.Textarea)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Any id may be posted; the service keeps only the person's own cases.
        self.fields["complaints"].choices = [
            (value, value) for value in self.data.getlist("complaints") if value.isdigit()
        ]


class HoldForm(forms.Form):
    reference = forms.CharField(max_length=20)
    reason = forms.CharField(max_length=2000)


class DecisionForm(forms.Form):
    note = forms.CharField(required=False, max_length=2000)


@protected
@require_safe
def privacy_home(request):
    form = SubjectForm(request.GET or None)
    matches, blockers = None, []
    if form.is_valid():
        matches = list(subject_complaints(form.cleaned_data["subject"])[:SHOWN_MATCHES])
        blockers = removal_blockers(matches)
    return render(
        request,
        "complaints/privacy/home.html",
        {
            "form": form,
            "matches": matches,
            "blockers": blockers,
            "policies": policies_active(),
            "holds": LegalHold.objects.filter(released_at__isnull=True).select_related(
                "complaint", "placed_by"
            ),
            "pending": ErasureRequest.objects.filter(status=ErasureStatus.REQUESTED)
            .select_related("requested_by")
            .prefetch_related("complaints"),
            "decided": ErasureRequest.objects.exclude(
                status=ErasureStatus.REQUESTED
            ).select_related("requested_by", "decided_by")[:20],
        },
    )


def _back_to_search(subject):
    return redirect(f"{reverse('complaints:privacy')}?{urlencode(vars(subject))}")


@protected
@require_POST
def privacy_export(request):
    form = ChosenCasesForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose the person's complaints to export.")
        return redirect("complaints:privacy")
    subject = form.cleaned_data["subject"]
    try:
        content, references = subject_access_export(
            subject, form.cleaned_data["complaints"], actor=request.user
        )
    except Refused as refusal:
        messages.error(request, refusal.message)
        return _back_to_search(subject)
    security_event_record(
        SecurityEventKind.DATA_EXPORTED,
        request=request,
        detail=f"Subject access export for {subject}: {', '.join(references)}",
    )
    response = HttpResponse(content, content_type="application/zip")
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="subject-access-{stamp}.zip"'
    return response


@protected
@require_POST
def privacy_erasure_request(request):
    form = ChosenCasesForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose the person's complaints to erase.")
        return redirect("complaints:privacy")
    subject = form.cleaned_data["subject"]
    try:
        erasure = erasure_request(
            subject,
            form.cleaned_data["complaints"],
            actor=request.user,
            reason=form.cleaned_data["reason"],
        )
    except Refused as refusal:
        messages.error(request, refusal.message)
    else:
        messages.success(
            request,
            f"Erasure request {erasure.pk} recorded; another manager must approve it.",
        )
    return _back_to_search(subject)


@protected
@require_POST
def privacy_erasure_decide(request, pk, decision):
    if decision not in ("approve", "refuse"):
        raise Http404("No such decision")
    erasure = get_object_or_404(ErasureRequest, pk=pk)
    form = DecisionForm(request.POST)
    note = form.cleaned_data["note"] if form.is_valid() else ""
    try:
        if decision == "approve":
            count = erasure_approve(erasure, actor=request.user, note=note)
            messages.success(request, f"Erasure request {pk} approved: {count} case(s) erased.")
        else:
            erasure_refuse(erasure, actor=request.user, note=note)
            messages.success(request, f"Erasure request {pk} refused.")
    except Refused as refusal:
        messages.error(request, refusal.message)
    return redirect("complaints:privacy")


@protected
@require_POST
def privacy_hold(request, action):
    if action not in ("place", "release"):
        raise Http404("No such action")
    form = HoldForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Give the complaint's reference and a reason.")
        return redirect("complaints:privacy")
    reference = form.cleaned_data["reference"].strip().upper()
    complaint = Complaint.objects.filter(reference=reference).first()
    if complaint is None:
        messages.error(request, f"There is no complaint {reference}.")
        return redirect("complaints:privacy")
    service = legal_hold_place if action == "place" else legal_hold_release
    try:
        service(complaint, actor=request.user, reason=form.cleaned_data["reason"])
    except Refused as refusal:
        messages.error(request, refusal.message)
    else:
        done = "placed on" if action == "place" else "lifted from"
        messages.success(request, f"Legal hold {done} {reference}.")
    return redirect("complaints:privacy")


@protected
def privacy_record(request):
    """Chain what is new and verify the record, on request (POST): at a million cases it
    takes a minute or so."""
    result, rows = None, []
    if request.method == "POST":
        record_chain_extend()
        result = record_verify()
        references = result.references()
        rows = [(references.get(b.complaint_id), b) for b in result.breaks[:SHOWN_BREAKS]]
    return render(request, "complaints/privacy/record.html", {"result": result, "rows": rows})
