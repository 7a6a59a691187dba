"""Thin views over the same selectors, permissions and services as the web interface.

Each view authenticates by token (or the session, for the documentation pages), asks
`complaints.permissions` what the caller may see, and hands every write to
`complaints.services`; a refusal there (`Refused`, `UploadRejected`) becomes a JSON error
in complaints/api/errors.py. Nothing here writes around the rules.
"""

import hashlib
import json
import re
import uuid

from django.contrib.auth.decorators import login_not_required
from django.db import IntegrityError, transaction
from django.urls import reverse
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from drf_spectacular.views import SpectacularSwaggerSplitView
from rest_framework import status
from rest_framework.exceptions import ValidationError
from rest_framework.generics import GenericAPIView
from rest_framework.parsers import MultiPartParser
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.response import Response

from accounts.roles import Capability, can
from complaints import selectors, services
from complaints.api import serializers as s
from complaints.api.errors import Conflict
from complaints.permissions import complaint_for, visible_complaints
from complaints.responses import ResponseType
from complaints.workflow import Refused

# Printable ASCII without spaces: a UUID, a ULID or the caller's own request id all fit.
IDEMPOTENCY_KEY = re.compile(r"[\x21-\x7e]{1,255}")
IDEMPOTENCY_HEADER = "Idempotency-Key"

ERROR_DESCRIPTIONS = {
    400: "Invalid input; each error names the field (or query parameter, or header).",
    401: "No token, or an unknown or inactive one.",
    403: "The caller's role does not allow this.",
    404: "No such complaint, or not one the caller may see.",
    409: "The complaints procedure refuses this now; the message says why in a sentence.",
    429: "Too many requests for this token; wait the seconds the Retry-After header gives.",
}


def answers(success, *codes):
    """The responses of an operation: its success plus the errors it can answer."""
    errors = {
        code: OpenApiResponse(s.ErrorResponse, description=ERROR_DESCRIPTIONS[code])
        for code in sorted({401, 403, 429, *codes})
    }
    return {**success, **errors}


class TeamMember(BasePermission):
    message = "This account has no role in the complaints team."

    def has_permission(self, request, view):
        return can(request.user, Capability.LOG_COMPLAINT)


class ApiView(GenericAPIView):
    """Callers carry a token, not a session, so the deny-by-default middleware must let them
    through to DRF, whose permissions answer 401 (no or bad token) or 403 (no role). DRF
    marks its views so already; saying it here keeps it true whatever DRF does."""

    permission_classes = [IsAuthenticated, TeamMember]
    # What a POST takes; an OPTIONS request describes it (DRF asks get_serializer_class).
    input_class = None

    @classmethod
    def as_view(cls, **initkwargs):
        return login_not_required(super().as_view(**initkwargs))

    def detail_response(self, complaint):
        """The complaint as it is now, with its timeline.

        Only for a complaint the caller could see when the request began: after an action
        that takes it out of their sight (the resolution team escalating to managers) they
        still get the outcome of what they did.
        """
        complaint = (
            selectors.complaint_detail_queryset().select_related("logged_by").get(pk=complaint.pk)
        )
        return Response(s.ComplaintDetail(complaint, context=self.get_serializer_context()).data)

    def get_serializer_class(self):
        return self.serializer_class or self.input_class

    def valid(self, serializer_class):
        serializer = serializer_class(data=self.request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        return serializer


def _idempotency_key(request):
    key = request.headers.get(IDEMPOTENCY_HEADER)
    if key is None:
        return None
    if not IDEMPOTENCY_KEY.fullmatch(key):
        raise ValidationError(
            {
                IDEMPOTENCY_HEADER: [
                    "Use 1 to 255 visible ASCII characters without spaces; a UUID is a good key."
                ]
            }
        )
    return key


def _body_hash(data):
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def idempotent_answers(serializer, created, replayed, *codes):
    """A create that honours Idempotency-Key: 201 the first time, 200 for a replay."""
    return answers(
        {
            201: OpenApiResponse(serializer, description=created),
            200: OpenApiResponse(serializer, description=replayed),
        },
        400,
        *codes,
    )


def idempotency_parameter(what):
    return OpenApiParameter(
        IDEMPOTENCY_HEADER,
        {"type": "string", "minLength": 1, "maxLength": 255, "pattern": r"^[!-~]+$"},
        OpenApiParameter.HEADER,
        description=f"A key unique to this {what}, e.g. a UUID, reused on retries.",
    )


class ComplaintListCreate(ApiView):
    serializer_class = s.ComplaintSummary
    # The list page's own filters: a bad value answers 400 naming the parameter.
    filter_backends = [DjangoFilterBackend]
    filterset_class = selectors.ComplaintFilterSet

    def get_queryset(self):
        return visible_complaints(self.request.user)

    @extend_schema(
        operation_id="complaints_list",
        summary="List complaints",
        description="The complaints the caller may see, with the web list's filters and "
        "search, in pages.",
        responses=answers({200: s.ComplaintSummary(many=True)}, 400),
    )
    def get(self, request):
        queryset = self.filter_queryset(self.get_queryset()).select_related("category", "assignee")
        page = self.paginate_queryset(queryset)
        data = s.ComplaintSummary(page, many=True, context=self.get_serializer_context()).data
        return self.get_paginated_response(data)

    @extend_schema(
        operation_id="complaints_create",
        summary="Log a complaint",
        description=(
            "Logs a complaint from any channel. Send an `Idempotency-Key` header to retry "
            "safely: the same key with the same body answers 200 with the complaint already "
            "logged; the same key with another body answers 409."
        ),
        parameters=[idempotency_parameter("complaint")],
        request=s.ComplaintCreate,
        responses=idempotent_answers(
            s.ComplaintDetail, "Logged.", "Already logged under this Idempotency-Key.", 409
        ),
    )
    def post(self, request):
        key = _idempotency_key(request)
        fingerprint = _body_hash(request.data) if key else ""
        try:
            serializer = self.valid(s.ComplaintCreate)
            with transaction.atomic():
                complaint = services.complaint_create(
                    actor=request.user,
                    data=serializer.service_data(),
                    flags=serializer.flags(),
                    catalogue=serializer.catalogue,
                )
                # The caller logged it, so the answer shows it even to a role that will not
                # see it in its lists (the resolution team sees only what is escalated to it).
                # Built from the rows just written, as GET reads them, without reading them.
                body = s.ComplaintDetail(
                    selectors.complaint_detail_of_logged(complaint),
                    context=self.get_serializer_context(),
                ).data
                _keep_answer(request, key, fingerprint, complaint, body)
        except (IntegrityError, ValidationError, Refused):
            # No look for the key first, which would cost every intake a query: a retry of a
            # logged complaint fails on the key's unique constraint (having waited for a
            # concurrent one to commit), or on input that means something else since (a
            # category retired), and is answered here with the first answer.
            if key and (replay := self._replay(key, fingerprint)):
                return replay
            raise
        return Response(body, status.HTTP_201_CREATED, headers={"Location": _location(complaint)})

    def _replay(self, key, fingerprint):
        record = _answered(self.request, key, fingerprint, "complaint")
        if record is None:
            return None
        return Response(
            record.response,
            headers={"Location": reverse("api:complaint", args=[record.complaint_id])},
        )


def _keep_answer(request, key, fingerprint, complaint, body):
    """Inside the transaction that made `complaint`'s change: a concurrent retry with the same
    key fails on the unique key and replays this answer."""
    if key:
        services.api_idempotency_record(
            user=request.user,
            key=key,
            request_hash=fingerprint,
            complaint=complaint,
            response=body,
        )


def _answered(request, key, fingerprint, what):
    """The first answer's record, if this caller already used this key for this request."""
    record = selectors.api_idempotency_record(request.user, key)
    if record is None:
        return None
    if record.request_hash != fingerprint:
        raise Conflict(
            {
                IDEMPOTENCY_HEADER: [
                    "This key was already used with a different request body. "
                    f"Use a new key for a new {what}."
                ]
            }
        )
    return record


def _location(complaint):
    return reverse("api:complaint", args=[complaint.pk])


class ComplaintRetrieve(ApiView):
    serializer_class = s.ComplaintDetail

    @extend_schema(
        operation_id="complaints_retrieve",
        summary="A complaint and its timeline",
        responses=answers({200: s.ComplaintDetail}, 404),
    )
    def get(self, request, pk):
        return self.detail_response(complaint_for(request.user, pk))


class ComplaintAction(ApiView):
    """POST an action on one complaint; the answer is the complaint as it now is."""

    def perform(self, complaint, data):
        raise NotImplementedError

    def post(self, request, pk):
        complaint = complaint_for(request.user, pk)
        data = self.valid(self.input_class).validated_data
        self.perform(complaint, data)
        return self.detail_response(complaint)


def _action_schema(operation_id, summary, input_class, description=""):
    return extend_schema(
        operation_id=operation_id,
        summary=summary,
        description=description,
        request=input_class,
        responses=answers({200: s.ComplaintDetail}, 400, 404, 409),
    )


class ComplaintTransition(ComplaintAction):
    input_class = s.TransitionInput

    @_action_schema(
        "complaints_transition",
        "Move a complaint to another stage",
        s.TransitionInput,
        "Moves as the transition table allows the caller's role; a missing step (for "
        "example the root cause before Documented) answers 409 with the sentence. Use "
        "/acknowledge/ to acknowledge and /resolution/ to propose a resolution.",
    )
    def post(self, request, pk):
        return super().post(request, pk)

    def perform(self, complaint, data):
        services.complaint_transition(
            complaint,
            data["to"],
            actor=self.request.user,
            note=data.get("note", ""),
            expected_stage=data.get("expected_stage"),
        )


class ComplaintAcknowledge(ComplaintAction):
    input_class = s.AcknowledgeInput

    @_action_schema(
        "complaints_acknowledge",
        "Record how the customer was acknowledged",
        s.AcknowledgeInput,
        "Moves a Received complaint to Acknowledged.",
    )
    def post(self, request, pk):
        return super().post(request, pk)

    def perform(self, complaint, data):
        services.complaint_acknowledge(
            complaint,
            actor=self.request.user,
            method=data["method"],
            note=data.get("note", ""),
            expected_stage=data.get("expected_stage"),
        )


class ComplaintAssign(ComplaintAction):
    input_class = s.AssignInput

    @_action_schema(
        "complaints_assign",
        "Assign, take or unassign a complaint",
        s.AssignInput,
        "Outside managers, only the unassigned intake queue is handed around; giving your "
        "own user id takes the complaint.",
    )
    def post(self, request, pk):
        return super().post(request, pk)

    def perform(self, complaint, data):
        services.complaint_assign(complaint, actor=self.request.user, assignee=data["assignee"])


class ComplaintEscalate(ComplaintAction):
    input_class = s.EscalateInput

    @_action_schema(
        "complaints_escalate", "Escalate a complaint", s.EscalateInput, "To the team or managers."
    )
    def post(self, request, pk):
        return super().post(request, pk)

    def perform(self, complaint, data):
        services.complaint_escalate(
            complaint, actor=self.request.user, level=data["level"], reason=data["reason"]
        )


class ComplaintOutcome(ComplaintAction):
    input_class = s.OutcomeInput

    @_action_schema(
        "complaints_record_outcome",
        "Record the outcome of a complaint",
        s.OutcomeInput,
        "Upheld or not, in the terms of the complaint's regulator; required before "
        "Documented. An outcome of another scheme answers 409 listing the allowed ones.",
    )
    def post(self, request, pk):
        return super().post(request, pk)

    def perform(self, complaint, data):
        services.complaint_outcome_record(
            complaint, actor=self.request.user, outcome=data["outcome"]
        )


class ComplaintResolution(ComplaintAction):
    input_class = s.ResolutionInput

    @_action_schema(
        "complaints_propose_resolution",
        "Propose a resolution",
        s.ResolutionInput,
        "Ends the investigation: the complaint moves to Resolved. Above the approval "
        "threshold the resolution waits for a manager.",
    )
    def post(self, request, pk):
        return super().post(request, pk)

    def perform(self, complaint, data):
        services.resolution_propose(
            complaint,
            actor=self.request.user,
            type=data["type"],
            description=data["description"],
            amount=data.get("amount"),
            customer_action=data.get("customer_action", ""),
            expected_stage=data.get("expected_stage"),
        )


class ComplaintWithdraw(ComplaintAction):
    input_class = s.WithdrawInput

    @_action_schema(
        "complaints_withdraw",
        "Record that the customer withdrew the complaint",
        s.WithdrawInput,
        "Closes the complaint as Withdrawn, from any open stage, with the customer's words "
        "and the day; a customer with an email address is sent a confirmation.",
    )
    def post(self, request, pk):
        return super().post(request, pk)

    def perform(self, complaint, data):
        services.complaint_withdraw(
            complaint,
            actor=self.request.user,
            customer_words=data["customer_words"],
            withdrawn_on=data["withdrawn_on"],
            expected_stage=data.get("expected_stage"),
        )


class ComplaintMerge(ComplaintAction):
    input_class = s.MergeInput

    @_action_schema(
        "complaints_merge",
        "Merge a complaint into the one it duplicates",
        s.MergeInput,
        "Before a resolution is proposed: the complaint closes as Duplicate, pointing at the "
        "complaint it duplicates (same customer, open, itself no duplicate), and its notes, "
        "documents, consultations and emails move there; the customer is emailed once.",
    )
    def post(self, request, pk):
        return super().post(request, pk)

    def perform(self, complaint, data):
        services.complaint_merge(
            complaint,
            actor=self.request.user,
            into_reference=data["into"],
            reason=data.get("reason", ""),
            expected_stage=data.get("expected_stage"),
        )


class ComplaintNotAComplaint(ComplaintAction):
    input_class = s.NotAComplaintInput

    @_action_schema(
        "complaints_not_a_complaint",
        "Close as not a complaint",
        s.NotAComplaintInput,
        "Before a resolution is proposed: an enquiry or something out of scope closes as "
        "Not a complaint, with the reason.",
    )
    def post(self, request, pk):
        return super().post(request, pk)

    def perform(self, complaint, data):
        services.complaint_not_a_complaint(
            complaint,
            actor=self.request.user,
            reason=data["reason"],
            expected_stage=data.get("expected_stage"),
        )


class ComplaintNotes(ApiView):
    input_class = s.NoteInput

    @extend_schema(
        operation_id="complaints_notes_create",
        summary="Add a note",
        request=s.NoteInput,
        responses=answers({201: s.NoteOut}, 400, 404, 409),
    )
    def post(self, request, pk):
        complaint = complaint_for(request.user, pk)
        data = self.valid(self.input_class).validated_data
        note = services.note_add(complaint, actor=request.user, text=data["text"])
        return Response(s.NoteOut(note).data, status=status.HTTP_201_CREATED)


class ComplaintAttachments(ApiView):
    parser_classes = [MultiPartParser]
    input_class = s.AttachmentInput

    @extend_schema(
        operation_id="complaints_attachments_create",
        summary="Attach a supporting document",
        description="multipart/form-data with one `file`. The type is checked by content: "
        "PDF, images, office documents, text, CSV and saved emails, up to the size limit.",
        request={"multipart/form-data": s.AttachmentInput},
        responses=answers({201: s.AttachmentOut}, 400, 404, 409),
    )
    def post(self, request, pk):
        complaint = complaint_for(request.user, pk)
        upload = self.valid(self.input_class).validated_data["file"]
        attachment = services.attachment_add(complaint, actor=request.user, upload=upload)
        return Response(s.AttachmentOut(attachment).data, status=status.HTTP_201_CREATED)


class ComplaintMessages(ApiView):
    input_class = s.MessageInput

    @extend_schema(
        operation_id="complaints_messages_list",
        summary="The conversation with the customer",
        description="Every message to and from the customer on the complaint, oldest first, "
        "in pages: our emails and letters (with where each is: sent, bounced, queued for "
        "printing, posted) and the emails that came in (HTML sanitised). Staff notifications "
        "are not part of it.",
        responses=answers({200: s.MessageOut(many=True)}, 400, 404),
    )
    def get(self, request, pk):
        complaint = complaint_for(request.user, pk)
        page = self.paginate_queryset(selectors.conversation(complaint))
        return self.get_paginated_response(s.MessageOut(page, many=True).data)

    @extend_schema(
        operation_id="complaints_messages_create",
        summary="Write to the customer",
        description=(
            "Sends a reply as staff do from the complaint's page, through the same service: "
            "by email (through the outbox, after commit, exactly once), or by letter (a PDF "
            "on the firm's letterhead among the complaint's documents, queued for printing "
            "until someone marks it posted on the web). Send an `Idempotency-Key` header to "
            "retry safely: the same key with the same body answers 200 with the message "
            "already sent; the same key with another body answers 409. A caller who may not "
            "write on the complaint gets 409. A regulated `response_type` (a final response, "
            "a holding response...) lacking what the complaint's profile requires is refused "
            "with 400, one error per missing element, and nothing is sent."
        ),
        parameters=[idempotency_parameter("message")],
        request=s.MessageInput,
        responses=idempotent_answers(
            s.MessageOut,
            "Sent, or queued for printing.",
            "Already sent under this Idempotency-Key.",
            404,
            409,
        ),
    )
    def post(self, request, pk):
        complaint = complaint_for(request.user, pk)
        key = _idempotency_key(request)
        fingerprint = _body_hash({"complaint": complaint.pk, "body": request.data}) if key else ""
        if key and (record := _answered(request, key, fingerprint, "message")):
            return Response(record.response)
        data = self.valid(self.input_class).validated_data
        subject, text = data.get("subject"), data.get("body")
        template = data.get("template")
        if template is not None:
            drafted = selectors.reply_draft(complaint, template, request.user)
            subject, text = subject or drafted[0], text or drafted[1]
        response_type = data.get("response_type") or (
            template.response_type if template is not None else ResponseType.REPLY
        )
        # The key names the message too, so a retry that loses the race to record its answer
        # finds the first one's message rather than sending a second.
        token = _token_for(request.user, key) if key else uuid.uuid4().hex
        try:
            with transaction.atomic():
                message = services.reply_send(
                    complaint,
                    actor=request.user,
                    subject=subject,
                    text=text,
                    token=token,
                    channel=data["channel"],
                    postal_address=data.get("postal_address", ""),
                    attachments=data.get("attachments", []),
                    response_type=response_type,
                    template=template,
                )
                body = s.MessageOut(selectors.conversation_outbound(message)).data
                _keep_answer(request, key, fingerprint, complaint, body)
        except IntegrityError:
            if key and (record := _answered(request, key, fingerprint, "message")):
                return Response(record.response)
            raise
        return Response(body, status=status.HTTP_201_CREATED)


def _token_for(user, key):
    return hashlib.sha256(f"{user.pk}:{key}".encode()).hexdigest()[:32]


class ApiDocs(SpectacularSwaggerSplitView):
    """Swagger UI for signed-in people. Its only renderer is an HTML template, which has
    nothing to show for DRF's OPTIONS metadata: the page answers GET and HEAD alone."""

    http_method_names = ["get", "head"]
