"""Pages for customers, who have no account: the public complaint form and their own link.

Every view here is on config.urls.PUBLIC_URL_NAMES. The link carries a signed, expiring
random token; a tampered, expired or unknown link gets a clear page and changes nothing.
"""

import logging

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.cache import cache
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from complaints import selectors, services
from complaints.customer import forms as customer_forms
from complaints.links import LinkProblem, customer_link, token_from_link
from complaints.models import ResolutionStatus
from complaints.selectors.timeline import CUSTOMER_STAGE_TEXT
from complaints.uploads import UploadRejected
from complaints.workflow import Refused, Stage

log = logging.getLogger(__name__)


def complaint_from_link(signed_token):
    complaint = selectors.complaint_by_token(token_from_link(signed_token))
    if complaint is None:
        raise LinkProblem("This link does not work", "We could not find this complaint.")
    return complaint


def _link_problem(request, problem):
    return render(
        request,
        "customer/link_problem.html",
        {"title": problem.title, "text": problem.text},
        status=404,
    )


def _page(request, signed_token, complaint, status=200, **forms):
    proposal = complaint.resolutions.filter(status=ResolutionStatus.PROPOSED).first()
    feedback_open = complaint.stage == Stage.FOLLOW_UP and not complaint.has_feedback_this_round()
    context = {
        "token": signed_token,
        "complaint": complaint,
        "status_text": CUSTOMER_STAGE_TEXT[Stage(complaint.stage)],
        "timeline": selectors.customer_timeline(complaint),
        "proposal": proposal,
        "feedback_open": feedback_open,
        # Same customer by the merge's rule, so their own link to the case that goes on.
        "survivor_link": customer_link(complaint.duplicate_of) if complaint.duplicate_of else "",
        "info_form": forms.get("info_form") or customer_forms.InformationForm(),
        "response_form": forms.get("response_form") or customer_forms.ResponseForm(),
        "feedback_form": forms.get("feedback_form") or customer_forms.CustomerFeedbackForm(),
    }
    return render(request, "customer/status.html", context, status=status)


@login_not_required
def status(request, token):
    try:
        complaint = complaint_from_link(token)
    except LinkProblem as problem:
        return _link_problem(request, problem)
    return _page(request, token, complaint)


def _customer_action(request, token, form_class, form_name, call, success):
    try:
        complaint = complaint_from_link(token)
    except LinkProblem as problem:
        return _link_problem(request, problem)
    form = form_class(request.POST, request.FILES)
    if not form.is_valid():
        return _page(request, token, complaint, status=400, **{form_name: form})
    try:
        call(complaint, form.cleaned_data)
    except (Refused, UploadRejected) as error:
        messages.error(request, error.message)
    else:
        messages.success(request, success)
    return redirect("customer:status", token=token)


@login_not_required
@require_POST
def add_information(request, token):
    return _customer_action(
        request,
        token,
        customer_forms.InformationForm,
        "info_form",
        lambda c, d: services.customer_information_add(
            c, text=d["message"], uploads=[d["document"]] if d["document"] else []
        ),
        "Thank you. We have added this to your complaint.",
    )


@login_not_required
@require_POST
def respond(request, token):
    def call(complaint, data):
        try:
            services.resolution_record_customer_response(
                complaint,
                actor=None,
                accepted=data["decision"] == "accept",
                comment=data["comment"],
            )
        except Refused:
            raise Refused("You have already answered this proposal. Thank you.") from None

    return _customer_action(
        request,
        token,
        customer_forms.ResponseForm,
        "response_form",
        call,
        "Thank you. We have your answer and will be in touch.",
    )


@login_not_required
@require_POST
def feedback(request, token):
    return _customer_action(
        request,
        token,
        customer_forms.CustomerFeedbackForm,
        "feedback_form",
        lambda c, d: services.feedback_record(
            c, actor=None, score=d["score"], resolved=d["resolved"], comment=d["comment"]
        ),
        "Thank you for your feedback.",
    )


def _client_address(request):
    return request.META.get("REMOTE_ADDR", "unknown")


def _over_rate_limit(request):
    """Count submissions per address for an hour; a cache outage never blocks a complaint."""
    key = f"public-complaint:{_client_address(request)}"
    try:
        cache.add(key, 0, timeout=3600)
        return cache.incr(key) > settings.PUBLIC_FORM_RATE_LIMIT
    except Exception as error:  # noqa: BLE001
        log.warning("Rate limit unavailable: %s", error)
        return False


THANKS_COOKIE = "complaint_reference"
THANKS_COOKIE_SECONDS = 600


@login_not_required
def public_complaint(request):
    form = customer_forms.PublicComplaintForm(request.POST or None, request.FILES or None)
    if request.method == "POST":
        if _over_rate_limit(request):
            return render(request, "customer/rate_limited.html", status=429)
        if form.is_valid():
            if form.cleaned_data["website"]:
                # A bot filled the hidden field: thank it, store nothing.
                return redirect("public-complaint-thanks")
            token = form.cleaned_data["submission"]
            try:
                complaint, _ = services.complaint_create_once(
                    actor=None,
                    data=form.complaint_data(),
                    uploads=form.uploads(),
                    flags=form.flags(),
                    # Anyone could send a token: a random one, which only the form that
                    # carried it knows, finds only the complaint that form made.
                    submission=(None, token) if token else None,
                )
            except (Refused, UploadRejected) as error:
                form.add_error(None, error.message)
            else:
                # A signed cookie, not the session: once the complaint is committed nothing
                # else may touch the database, or losing it then would tell a customer whose
                # complaint was saved that it was not, and they would send it again.
                response = redirect("public-complaint-thanks")
                response.set_signed_cookie(
                    THANKS_COOKIE,
                    complaint.reference,
                    salt=THANKS_COOKIE,
                    max_age=THANKS_COOKIE_SECONDS,
                    secure=settings.SESSION_COOKIE_SECURE,
                    httponly=True,
                    samesite="Lax",
                )
                return response
    return render(
        request, "customer/public_form.html", {"form": form}, status=400 if form.errors else 200
    )


@login_not_required
def public_complaint_thanks(request):
    reference = request.get_signed_cookie(
        THANKS_COOKIE, default=None, salt=THANKS_COOKIE, max_age=THANKS_COOKIE_SECONDS
    )
    response = render(request, "customer/public_thanks.html", {"reference": reference})
    # Shown once: reloading the page later does not show it again.
    response.delete_cookie(THANKS_COOKIE, samesite="Lax")
    return response
