"""Anonymising closed cases, once, in batches: by the retention job when a policy's time has
come, or on an approved erasure request (services/erasure.py). Legal holds stop both.

What goes: the customer's identity and words (name, contact details, description, notes,
comments), the documents' files and names, the emails' bodies and addresses, and the same
columns in every history row. What stays: dates, stage, channel, category, product, root cause,
outcome and money, so trend reports and returns over old periods keep their figures.
"""

from collections import defaultdict

from django.core import signing
from django.db import connection, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from accounts.roles import Capability, can
from complaints import chain
from complaints.models import (
    Anonymisation,
    Attachment,
    Complaint,
    Feedback,
    LegalHold,
    Note,
    OutboundMessage,
    RecordLink,
    Resolution,
)
from complaints.selectors.record import SEAL_SALT, sealed_digest
from complaints.selectors.retention import complaints_past_retention, policies_active
from complaints.services.attachments import attachment_path
from complaints.services.common import locked
from complaints.services.history import history_copy
from complaints.services.record import content_hashes
from complaints.sql import id_array, ids_among
from complaints.workflow import Refused

REMOVED = "[removed]"
BATCH = 1_000

# Model -> (the column naming its case, {field: what replaces it}). History rows of the
# models that keep history are scrubbed of the same fields.
SCRUBBED = {
    Complaint: (
        "id",
        {
            "customer_name": "Anonymised",
            "customer_email": "",
            "customer_phone": "",
            "customer_phone_digits": "",
            "customer_postcode": "",
            "customer_address": "",
            "representative_name": "",
            "complainant_gender": "",
            "complainant_age_band": "",
            "description": REMOVED,
            "interaction_details": "",
            "transaction_reference": "",
            "proposed_resolution": "",
        },
    ),
    Note: ("complaint_id", {"text": REMOVED}),
    Feedback: ("complaint_id", {"comment": ""}),
    Resolution: ("complaint_id", {"customer_comment": ""}),
    Attachment: ("complaint_id", {"original_name": REMOVED}),
    OutboundMessage: (
        "complaint_id",
        {
            "recipient": "",
            "postal_address": "",
            "subject": REMOVED,
            "body_text": "",
            "body_html": "",
        },
    ),
}


def removed_fields():
    return {model.__name__: sorted(fields) for model, (_, fields) in SCRUBBED.items()}


def _claim(complaint_ids):
    """Lock the cases of the batch not anonymised yet; a case another run holds is skipped."""
    done = Anonymisation.objects.filter(complaint=OuterRef("pk"))
    return list(
        Complaint.objects.select_for_update(skip_locked=True, of=("self",))
        .filter(ids_among("id", complaint_ids))
        .exclude(Exists(done))
        .order_by("pk")
        .values_list("pk", "reference")
    )


def _scrub(ids):
    for model, (column, fields) in SCRUBBED.items():
        model.objects.filter(ids_among(column, ids)).update(**fields)
        history = getattr(model, "history", None)
        if history is not None:
            history.model.objects.filter(ids_among(column, ids)).update(**fields)


def _rehash(ids):
    """The chained rows the scrub changed get their new hash beside the one chained."""
    for kind in chain.KINDS.values():
        if kind.name in ("stage", "seal"):
            continue
        links = RecordLink.objects.filter(kind=kind.name, complaint_id__in=ids)
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(
                    f'UPDATE "{RecordLink._meta.db_table}" l SET current_hash = s.hash FROM '  # noqa: S608  # nosec B608  (names from models)
                    f'(SELECT r."{kind.pk_column}" AS pk, {chain.content_sql(kind, "r")} AS hash '
                    f'FROM "{kind.table}" r '
                    f'WHERE r."{kind.complaint_column}" = ANY(%s::bigint[])) s '
                    # The links are narrowed to the batch's cases too: joined on the kind
                    # alone, every link of the kind in the table is read for each batch.
                    "WHERE l.kind = %s AND l.object_id = s.pk AND l.content_hash <> s.hash "
                    "AND l.complaint_id = ANY(%s::bigint[])",
                    [id_array(ids), kind.name, id_array(ids)],
                )
            continue
        changed = []
        hashes = content_hashes(kind, list(links.values_list("object_id", flat=True)))
        for link in links:
            if hashes.get(link.object_id, link.content_hash) != link.content_hash:
                link.current_hash = hashes[link.object_id]
                changed.append(link)
        RecordLink.objects.bulk_update(changed, ["current_hash"])


def _seals(ids):
    """{complaint id: (links, digest)}: what each case's seal signs, its chain so far in order
    with each link's hash as it now stands (`sealed_digest`), aggregated in SQL on
    PostgreSQL so a batch reads a row per case, not every link."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT complaint_id, count(*), encode(sha256(convert_to(string_agg("  # noqa: S608  # nosec B608  (names from models)
                "COALESCE(NULLIF(current_hash, ''), content_hash), '' ORDER BY seq), 'UTF8')), "
                f"'hex') FROM \"{RecordLink._meta.db_table}\" "
                "WHERE complaint_id = ANY(%s::bigint[]) GROUP BY complaint_id",
                [id_array(ids)],
            )
            return {pk: (links, digest) for pk, links, digest in cursor.fetchall()}
    hashes = defaultdict(list)
    for complaint_id, current, content in (
        RecordLink.objects.filter(complaint_id__in=ids)
        .order_by("complaint_id", "seq")
        .values_list("complaint_id", "current_hash", "content_hash")
    ):
        hashes[complaint_id].append(current or content)
    return {pk: (len(links), sealed_digest(links)) for pk, links in hashes.items()}


@transaction.atomic
def complaints_anonymise(complaint_ids, *, reason, policy=None, erasure=None, actor=None):
    """Anonymise the given closed cases not anonymised yet; returns how many were.

    Files are deleted inside the transaction: if it rolls back, the cases are not claimed and
    the next run finishes the deletion, which is what was wanted anyway."""
    at = timezone.now()
    claimed = _claim(complaint_ids)
    ids = [pk for pk, _ in claimed]
    if not ids:
        return 0
    files = defaultdict(list)
    for attachment in Attachment.objects.filter(ids_among("complaint_id", ids)).only(
        "complaint_id", "stored_name"
    ):
        files[attachment.complaint_id].append(attachment_path(attachment))
    _scrub(ids)
    history_copy(
        ids, reason=f"Anonymised: {reason}"[:100], at=at, user_id=getattr(actor, "pk", None)
    )
    _rehash(ids)
    seals = _seals(ids)
    unchained = (0, sealed_digest([]))
    fields = removed_fields()
    Anonymisation.objects.bulk_create(
        Anonymisation(
            complaint_id=pk,
            at=at,
            reason=reason[:300],
            policy=policy,
            erasure=erasure,
            sealed_links=seals.get(pk, unchained)[0],
            record=signing.dumps(
                {
                    "complaint": pk,
                    "reference": reference,
                    "at": at.isoformat(),
                    "reason": reason,
                    "policy": policy.name if policy else None,
                    "erasure": erasure.pk if erasure else None,
                    "by": actor.get_username() if actor else None,
                    "removed": fields,
                    "files_deleted": len(files[pk]),
                    "links": seals.get(pk, unchained)[0],
                    "digest": seals.get(pk, unchained)[1],
                },
                salt=SEAL_SALT,
                compress=True,
            ),
        )
        for pk, reference in claimed
    )
    for paths in files.values():
        for path in paths:
            path.unlink(missing_ok=True)
    return len(ids)


def retention_apply(now=None, batch=BATCH):
    """The retention job: anonymise every closed case past its policy, in batches of `batch`
    cases, each its own transaction, so intake never waits on it. The due cases are read in
    one pass (a query per batch would scan the closed cases a hundred times at 100,000)."""
    now = now or timezone.now()
    policies = policies_active()
    summary = {"anonymised": 0}
    for policy in policies:
        due = complaints_past_retention(policy, policies, now).order_by("pk")
        reason = f"retention policy '{policy.name}' ({policy.source})"
        ids = list(due.values_list("pk", flat=True))
        for start in range(0, len(ids), batch):
            summary["anonymised"] += complaints_anonymise(
                ids[start : start + batch], reason=reason, policy=policy
            )
    return summary


def _require_data_protection(actor):
    if not can(actor, Capability.PROTECT_PERSONAL_DATA):
        raise Refused("Only a manager may do that.")


@transaction.atomic
def legal_hold_place(complaint, *, actor, reason):
    _require_data_protection(actor)
    reason = (reason or "").strip()
    if not reason:
        raise Refused("Say why the case is held (litigation, an ombudsman referral...).")
    complaint = locked(complaint)
    if LegalHold.objects.filter(complaint=complaint, released_at__isnull=True).exists():
        raise Refused(f"{complaint.reference} is already under a legal hold.")
    hold = LegalHold.objects.create(
        complaint=complaint, reason=reason, placed_by=actor, placed_at=timezone.now()
    )
    Note.objects.create(complaint=complaint, author=actor, text=f"Legal hold placed: {reason}")
    return hold


@transaction.atomic
def legal_hold_release(complaint, *, actor, reason):
    _require_data_protection(actor)
    reason = (reason or "").strip()
    if not reason:
        raise Refused("Say why the hold is lifted.")
    hold = (
        LegalHold.objects.select_for_update()
        .filter(complaint=complaint, released_at__isnull=True)
        .first()
    )
    if hold is None:
        raise Refused(f"{complaint.reference} is not under a legal hold.")
    hold.released_by, hold.released_at, hold.release_reason = actor, timezone.now(), reason
    hold.save(update_fields=["released_by", "released_at", "release_reason"])
    Note.objects.create(complaint=complaint, author=actor, text=f"Legal hold lifted: {reason}")
    return hold
