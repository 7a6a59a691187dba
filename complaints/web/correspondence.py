"""Writing to the customer from the complaint, and the emails that matched no complaint.
Every change goes through a service; the compose page is its own view and template so the
complaint's page only links to it."""

import uuid

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from complaints import mime, selectors, services
from complaints.input_limits import id_from
from complaints.models import MessageChannel
from complaints.permissions import (
    Action,
    can_act,
    can_sort_inbound,
    complaint_for,
    inbound_message_for,
    message_for,
    visible_complaints,
)
from complaints.responses import ResponseIncomplete, ResponseType
from complaints.web import forms
from complaints.workflow import Refused

NO_TEMPLATE = "without_template"
TEMPLATE_NOT_OFFERED = (
    "That template is not offered for this complaint (unknown, switched off, or for another "
    "profile): choose another, or write without a template."
)


def reply_compose(request, pk):
    """Choose the type of response and a template, edit, preview, send: the preview and the
    send post the same form. A regulated response lacking what it requires comes back with
    the list of what is missing beside the text as written."""
    complaint = complaint_for(request.user, pk)
    if not can_act(request.user, complaint, Action.NOTE):
        raise PermissionDenied
    offered = selectors.response_types_offered(complaint.profile)
    chosen = None
    preview = None
    missing = ()
    if request.method == "POST" and ("choose_type" in request.POST or NO_TEMPLATE in request.POST):
        # Choosing a type, or leaving the template, keeps what was typed.
        typed = {**request.POST.dict(), "attachments": request.POST.getlist("attachments")}
        if NO_TEMPLATE in request.POST:
            typed["template"] = None
            messages.info(request, "No template: the text stays as you wrote it.")
        elif typed.get("template"):
            chosen = _template_of(complaint, typed["template"])
        response_type = typed.get("response_type") or ResponseType.REPLY
        form = forms.ReplyForm(initial=typed, complaint=complaint, response_types=offered)
    elif request.method == "POST":
        form = forms.ReplyForm(request.POST, complaint=complaint, response_types=offered)
        response_type = form.data.get("response_type") or ResponseType.REPLY
        template = None
        if form.is_valid() and form.cleaned_data["template"]:
            template = _template_of(complaint, form.cleaned_data["template"])
            if template is None:
                form.add_error(None, TEMPLATE_NOT_OFFERED)
        if form.is_valid() and "send" in request.POST:
            data = form.cleaned_data
            response_type = data["response_type"]
            try:
                sent = services.reply_send(
                    complaint,
                    actor=request.user,
                    subject=data["subject"],
                    text=data["text"],
                    attachments=data["attachments"],
                    token=data["token"],
                    channel=data["channel"],
                    postal_address=data["postal_address"],
                    response_type=response_type,
                    template=template,
                )
            except ResponseIncomplete as refusal:
                missing = refusal.missing
            except Refused as error:
                form.add_error(None, error.message)
            else:
                messages.success(
                    request,
                    "Your letter is queued for printing: print it from the timeline, then mark "
                    "it posted."
                    if sent.is_letter
                    else "Your reply is on its way to the customer.",
                )
                return redirect("complaints:detail", pk=complaint.pk)
        elif form.is_valid():
            preview = form.cleaned_data
            response_type = preview["response_type"]
    else:
        template_id = request.GET.get("template", "")
        if template_id:
            chosen = _template_of(complaint, template_id)
            if chosen is None:
                messages.error(request, TEMPLATE_NOT_OFFERED)
        response_type = request.GET.get("type", "")
        if chosen is not None:
            response_type = chosen.response_type
        if response_type not in offered:
            response_type = ResponseType.REPLY
        initial = {
            "token": uuid.uuid4().hex,
            "channel": MessageChannel.EMAIL if complaint.customer_email else MessageChannel.LETTER,
            "postal_address": selectors.postal_address_last(complaint),
            "response_type": response_type,
            "template": chosen.pk if chosen else None,
        }
        if chosen is not None:
            initial["subject"], initial["text"] = selectors.reply_draft(
                complaint, chosen, request.user
            )
        form = forms.ReplyForm(initial=initial, complaint=complaint, response_types=offered)
    if response_type not in offered:
        response_type = ResponseType.REPLY
    context = {
        "complaint": complaint,
        "form": form,
        "response_type": ResponseType(response_type),
        "response_types": [ResponseType(t) for t in offered],
        "required": selectors.required_elements(complaint.profile, response_type)
        if response_type != ResponseType.REPLY
        else [],
        "templates": selectors.response_templates_active(
            complaint.preferred_language, response_type=response_type, profile=complaint.profile
        ),
        "chosen": chosen,
        "preview": preview,
        "missing": missing,
    }
    status = 400 if request.method == "POST" and (form.errors or missing) else 200
    return render(request, "complaints/reply.html", context, status=status)


def _template_of(complaint, template_id):
    """The active template offered under the complaint's profile that `template_id` names,
    or None."""
    template_id = id_from(template_id)
    if template_id is None:
        return None
    templates = selectors.response_templates_active(response_type=None, profile=complaint.profile)
    return templates.filter(pk=template_id).first()


@require_POST
def letter_posted(request, pk):
    """Someone printed a letter and put it in the post."""
    message = message_for(request.user, pk)
    try:
        services.letter_mark_posted(message, actor=request.user)
    except Refused as error:
        messages.error(request, error.message)
    else:
        messages.success(request, "The letter is marked as posted.")
    return redirect("complaints:message", pk=message.pk)


def inbound_list(request):
    if not can_sort_inbound(request.user):
        raise PermissionDenied
    waiting = selectors.inbound_awaiting_staff(request.user)
    return render(request, "complaints/inbound_list.html", {"waiting": waiting})


def inbound_message(request, pk):
    message = inbound_message_for(request.user, pk)
    context = {
        "message": message,
        # The sender's HTML, sanitised now, whatever was stored.
        "safe_html": mime.safe_html(message.body_html) if message.body_html else "",
        "suggestions": [],
    }
    if message.complaint_id is None and can_sort_inbound(request.user):
        context["suggestions"] = next(
            (m.suggestions for m in selectors.inbound_awaiting_staff(request.user) if m.pk == pk),
            [],
        )
    return render(request, "complaints/inbound_message.html", context)


@require_POST
def inbound_attach(request, pk):
    message = inbound_message_for(request.user, pk)
    reference = request.POST.get("reference", "").strip().upper()
    complaint = get_object_or_404(visible_complaints(request.user), reference=reference)
    try:
        services.inbound_attach(message, complaint, actor=request.user)
    except Refused as error:
        messages.error(request, error.message)
        return redirect("complaints:inbound-message", pk=pk)
    messages.success(request, f"The email is now on {complaint.reference}.")
    return redirect("complaints:inbound")


@require_POST
def inbound_dismiss(request, pk):
    message = inbound_message_for(request.user, pk)
    if not can_sort_inbound(request.user):
        raise PermissionDenied
    try:
        services.inbound_dismiss(message, actor=request.user)
    except Refused as error:
        messages.error(request, error.message)
    else:
        messages.success(request, "Email dismissed.")
    return redirect("complaints:inbound")
