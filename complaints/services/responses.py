"""The responses regulators require (docs/responses.md): the check before a regulated
response is sent, the approval of a template's wording (two people), and the documents a
profile's responses enclose."""

import os

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from accounts.roles import Capability, can
from complaints import selectors
from complaints.models import ResponseEnclosure, ResponseTemplate
from complaints.responses import ResponseIncomplete, ResponseType, missing_elements
from complaints.services.attachments import store_attachment
from complaints.services.common import attribute, files_removed_on_failure
from complaints.uploads import check_upload
from complaints.workflow import Refused

# What makes a template's wording: a change to any of these waits for approval.
WORDING_FIELDS = ("subject", "body", "response_type", "profile", "language")


def response_enclosures_check(complaint, response_type, *, subject, text, template=None):
    """Refuse (ResponseIncomplete, listing every missing element) unless the response has
    what its type requires under the complaint's profile; return the enclosures it must
    carry. Run with the complaint locked, before anything is stored."""
    response_type = ResponseType(response_type)
    _template_usable(template, complaint, response_type)
    if response_type == ResponseType.REPLY:
        return []
    profile = complaint.profile
    if response_type not in selectors.response_types_offered(profile):
        raise Refused(
            f"Under {profile.name} there is no {response_type.label.lower()} to send: "
            "choose another type of response."
        )
    elements = selectors.required_elements(profile, response_type)
    # A row whose file is gone from storage (a restore without the files) is no copy kept.
    kept = {code: e for code, e in selectors.enclosures_of(profile).items() if e.path.is_file()}
    missing = missing_elements(
        elements,
        text=f"{subject}\n{text}",
        enclosures=set(kept),
        facts=selectors.case_facts(complaint),
    )
    if missing:
        raise ResponseIncomplete(response_type, profile.name, missing)
    return [kept[e.enclosure] for e in elements if e.enclosure in kept]


def _template_usable(template, complaint, response_type):
    if template is None:
        return
    if template.response_type != response_type:
        raise Refused(
            f"The template “{template.name}” is for a "
            f"{template.get_response_type_display().lower()}, not a "
            f"{response_type.label.lower()}."
        )
    if template.profile_id not in (None, complaint.profile_id):
        raise Refused(f"The template “{template.name}” is for {template.profile.name}.")
    if template.is_regulated and template.awaiting_approval:
        raise Refused(
            f"The template “{template.name}” has a change of wording waiting for a manager's "
            "approval: it cannot be sent from until it is approved."
        )


def enclosures_attach(complaint, enclosures, written, *, actor):
    """A copy of each enclosure among the complaint's documents: the case keeps what went."""
    return [
        store_attachment(
            complaint,
            ContentFile(enclosure.path.read_bytes(), name=enclosure.original_name),
            written,
            actor=actor,
        )
        for enclosure in enclosures
    ]


def template_version(template):
    """The template's history row as it stands: the version a message is sent from."""
    if template is None:
        return None
    return template.history.order_by("-history_date", "-history_id").first()


# The wording's approval ----------------------------------------------------------------------


WORDING_CHANGED = "Wording changed: awaiting approval"
WORDING_APPROVED = "Wording approved"


def response_template_save(template, *, actor, changed=()):
    """Save a template from the admin. A regulated template whose wording is new or
    changed waits for approval, naming who changed it and when."""
    adding = template.pk is None
    if template.is_regulated and (adding or set(changed) & set(WORDING_FIELDS)):
        template.awaiting_approval = True
        template.wording_changed_by = actor
        template.wording_changed_at = timezone.now()
        template.approved_by = None
        template.approved_at = None
        reason = WORDING_CHANGED
    elif not template.is_regulated:
        # A plain reply needs no approval; one made plain leaves the queue of approvals.
        template.awaiting_approval = False
        reason = "Changed"
    else:
        reason = "Changed"
    attribute(template, actor, reason)
    template.save()
    return template


def response_template_approve(template, *, actor, version):
    """A manager approves the wording they reviewed: `version` is the template's
    `wording_changed_at` as shown to them, refused if the wording changed since. No one who
    changed the wording since the last approval approves it."""
    if not can(actor, Capability.MANAGE_SETTINGS):
        raise Refused("Only a manager approves a template's wording.")
    with transaction.atomic():
        template = ResponseTemplate.objects.select_for_update().get(pk=template.pk)
        if not template.awaiting_approval:
            raise Refused(f"“{template.name}” has no change waiting for approval.")
        if version != template.wording_changed_at:
            raise Refused(
                f"The wording of “{template.name}” changed since you read it: read it again "
                "before approving it."
            )
        if actor.pk in wording_authors_since_approval(template):
            raise Refused(
                f"You changed the wording of “{template.name}”: another manager approves it."
            )
        template.awaiting_approval = False
        template.approved_by = actor
        template.approved_at = timezone.now()
        attribute(template, actor, WORDING_APPROVED)
        template.save(update_fields=["awaiting_approval", "approved_by", "approved_at"])
        return template


def wording_authors_since_approval(template):
    """Who changed the template's wording since its last approval (or since it was made)."""
    versions = template.history.all()
    approved = (
        versions.filter(history_change_reason=WORDING_APPROVED)
        .order_by("-history_date", "-history_id")
        .first()
    )
    if approved is not None:
        versions = versions.filter(history_date__gt=approved.history_date)
    return set(
        versions.filter(history_change_reason=WORDING_CHANGED).values_list(
            "history_user_id", flat=True
        )
    ) | {template.wording_changed_by_id}


# Enclosures ----------------------------------------------------------------------------------


def response_enclosure_upload(enclosure, upload, *, actor):
    """Store a profile's document (new, or a new version of it), checked like any upload."""
    checked = check_upload(upload.name, upload.chunks(), settings.ATTACHMENT_MAX_BYTES)
    replaced = enclosure.path if enclosure.pk else None
    with files_removed_on_failure() as written, transaction.atomic():
        enclosure.stored_name = ResponseEnclosure._meta.get_field("stored_name").default()
        enclosure.original_name = checked.display_name
        enclosure.content_type = checked.content_type
        enclosure.size = checked.size
        enclosure.sha256 = checked.sha256
        enclosure.uploaded_by = actor
        enclosure.uploaded_at = timezone.now()
        path = enclosure.path
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(path.name + ".part")
        with open(partial, "wb") as handle:
            for chunk in upload.chunks():
                handle.write(chunk)
        os.replace(partial, path)
        written.append(path)
        attribute(enclosure, actor, "Document uploaded")
        enclosure.save()
        if replaced is not None:
            # The responses sent with the old version keep their own copies.
            transaction.on_commit(lambda: replaced.unlink(missing_ok=True))
        return enclosure
