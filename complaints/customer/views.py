"""Pages for customers, who have no account: the public complaint form and their own link.

Every view here is on config.urls.PUBLIC_URL_NAMES. The link carries a signed, expiring
random token; a tampered, expired or unknown link gets a clear page and changes nothing.
The link's pages speak the complaint's preferred language; the public form, before there is
a complaint, the one the visitor picks or their browser's.
"""

import functools
import logging
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.cache import cache
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from complaints import selectors, services
from complaints.customer import forms as customer_forms
from complaints.links import LinkProblem, customer_link, token_from_link
from complaints.models import DEFAULT_CUSTOMER_LANGUAGE, ResolutionStatus
from complaints.selectors.timeline import CUSTOMER_STAGE_TEXT
from complaints.uploads import UploadRejected
from complaints.workflow import Refused, Stage

log = logging.getLogger(__name__)


def complaint_from_link(signed_token):
    complaint = selectors.complaint_by_token(token_from_link(signed_token))
    if complaint is None:
        raise LinkProblem(_("This link does not work"), _("We could not find this complaint."))
    return complaint


def request_language(request):
    """Before there is a complaint to follow: the language the visitor picked (?lang=es), or
    their browser's (Accept-Language), or English."""
    supported = dict(settings.LANGUAGES)
    chosen = request.GET.get("lang", "")
    if chosen in supported:
        return chosen
    browser = translation.get_language_from_request(request).split("-")[0]
    return browser if browser in supported else DEFAULT_CUSTOMER_LANGUAGE


def link_page(view):
    """A page of the customer's link: `view(request, complaint, token)` runs in the
    complaint's language, whatever the browser asks for; a link that does not work gets a
    clear page, in the browser's language, and changes nothing."""

    @functools.wraps(view)
    def page(request, token):
        try:
            complaint = complaint_from_link(token)
        except LinkProblem as problem:
            with translation.override(request_language(request)):
                return render(
                    request,
                    "customer/link_problem.html",
                    {"title": problem.title, "text": problem.text},
                    status=404,
                )
        with translation.override(complaint.preferred_language):
            return view(request, complaint, token)

    return page


def _page(request, signed_token, complaint, status=200, **forms):
    proposal = complaint.resolutions.filter(status=ResolutionStatus.PROPOSED).first()
    feedback_open = complaint.stage == Stage.FOLLOW_UP and not complaint.has_feedback_this_round()
    context = {
        "token": signed_token,
        "complaint": complaint,
        "status_text": CUSTOMER_STAGE_TEXT[Stage(complaint.stage)],
        "timeline": selectors.customer_timeline(complaint),
        "conversation": selectors.customer_conversation(complaint),
        "proposal": proposal,
        "feedback_open": feedback_open,
        # Same customer by the merge's rule, so their own link to the case that goes on.
        "survivor_link": customer_link(complaint.duplicate_of) if complaint.duplicate_of else "",
        "info_form": forms.get("info_form") or customer_forms.InformationForm(),
        "reply_form": forms.get("reply_form") or customer_forms.CustomerReplyForm(),
        "response_form": forms.get("response_form") or customer_forms.ResponseForm(),
        "feedback_form": forms.get("feedback_form") or customer_forms.CustomerFeedbackForm(),
    }
    return render(request, "customer/status.html", context, status=status)


@login_not_required
@link_page
def status(request, complaint, token):
    return _page(request, token, complaint)


def _customer_action(request, complaint, token, form_class, form_name, call, success, anchor=""):
    form = form_class(request.POST, request.FILES)
    if not form.is_valid():
        return _page(request, token, complaint, status=400, **{form_name: form})
    try:
        call(complaint, form.cleaned_data)
    except (Refused, UploadRejected) as error:
        messages.error(request, error.message)
    else:
        messages.success(request, success)
    return redirect(reverse("customer:status", args=[token]) + anchor)


@login_not_required
@require_POST
@link_page
def add_information(request, complaint, token):
    return _customer_action(
        request,
        complaint,
        token,
        customer_forms.InformationForm,
        "info_form",
        lambda c, d: services.customer_information_add(
            c, text=d["message"], uploads=[d["document"]] if d["document"] else []
        ),
        gettext("Thank you. We have added this to your complaint."),
    )


@login_not_required
@require_POST
@link_page
def reply(request, complaint, token):
    """The customer answers in the conversation: received as their email would be."""
    if _over_rate_limit(request, "customer-reply", settings.CUSTOMER_REPLY_RATE_LIMIT):
        return render(request, "customer/rate_limited.html", {"replying": True}, status=429)
    return _customer_action(
        request,
        complaint,
        token,
        customer_forms.CustomerReplyForm,
        "reply_form",
        lambda c, d: services.inbound_receive_from_link(
            c, text=d["message"], token=d["submission"]
        ),
        gettext("Thank you. We have your message and will answer you here and by email."),
        anchor="#conversation",
    )


@login_not_required
@require_POST
@link_page
def respond(request, complaint, token):
    def call(complaint, data):
        try:
            services.resolution_record_customer_response(
                complaint,
                actor=None,
                accepted=data["decision"] == "accept",
                comment=data["comment"],
            )
        except Refused:
            raise Refused(gettext("You have already answered this proposal. Thank you.")) from None

    return _customer_action(
        request,
        complaint,
        token,
        customer_forms.ResponseForm,
        "response_form",
        call,
        gettext("Thank you. We have your answer and will be in touch."),
    )


@login_not_required
@require_POST
@link_page
def feedback(request, complaint, token):
    return _customer_action(
        request,
        complaint,
        token,
        customer_forms.CustomerFeedbackForm,
        "feedback_form",
        lambda c, d: services.feedback_record(
            c, actor=None, score=d["score"], resolved=d["resolved"], comment=d["comment"]
        ),
        gettext("Thank you for your feedback."),
    )


def _client_address(request):
    return request.META.get("REMOTE_ADDR", "unknown")


def _over_rate_limit(request, scope, limit):
    """Count submissions per address for an hour; a cache outage never blocks a complaint
    or a customer's message."""
    key = f"{scope}:{_client_address(request)}"
    try:
        cache.add(key, 0, timeout=3600)
        return cache.incr(key) > limit
    except Exception as error:  # noqa: BLE001
        log.warning("Rate limit unavailable: %s", error)
        return False


THANKS_COOKIE = "complaint_reference"
THANKS_COOKIE_SECONDS = 600


@login_not_required
def public_complaint(request):
    language = request_language(request)
    with translation.override(language):
        return _public_complaint(request, language)


def _public_complaint(request, language):
    form = customer_forms.PublicComplaintForm(
        request.POST or None, request.FILES or None, language=language
    )
    if request.method == "POST":
        if _over_rate_limit(request, "public-complaint", settings.PUBLIC_FORM_RATE_LIMIT):
            return render(request, "customer/rate_limited.html", status=429)
        if form.is_valid():
            if form.cleaned_data["website"]:
                # A bot filled the hidden field: thank it, store nothing.
                return _thanks_redirect(language)
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
                    catalogue=form.catalogue,
                )
            except (Refused, UploadRejected) as error:
                form.add_error(None, error.message)
            else:
                # A signed cookie, not the session: once the complaint is committed nothing
                # else may touch the database, or losing it then would tell a customer whose
                # complaint was saved that it was not, and they would send it again.
                response = _thanks_redirect(complaint.preferred_language)
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
    context = {"form": form, "languages": customer_forms.languages_by_their_own_names()}
    return render(request, "customer/public_form.html", context, status=400 if form.errors else 200)


def _thanks_redirect(language):
    return redirect(reverse("public-complaint-thanks") + "?" + urlencode({"lang": language}))


@login_not_required
def public_complaint_thanks(request):
    reference = request.get_signed_cookie(
        THANKS_COOKIE, default=None, salt=THANKS_COOKIE, max_age=THANKS_COOKIE_SECONDS
    )
    with translation.override(request_language(request)):
        response = render(request, "customer/public_thanks.html", {"reference": reference})
    # Shown once: reloading the page later does not show it again.
    response.delete_cookie(THANKS_COOKIE, samesite="Lax")
    return response
