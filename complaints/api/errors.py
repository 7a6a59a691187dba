"""Every error the API answers has one shape: {"errors": [{"field": ..., "message": ...}]}.

`field` names the input at fault (a body field, a query parameter, or a header such as
"Idempotency-Key"), or is null when the error is about the request as a whole.
"""

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import status
from rest_framework.exceptions import APIException, ValidationError
from rest_framework.serializers import as_serializer_error
from rest_framework.settings import api_settings
from rest_framework.views import exception_handler as drf_exception_handler

from complaints.responses import Check, ResponseIncomplete
from complaints.uploads import UploadRejected
from complaints.workflow import Refused

NON_FIELD_KEYS = {api_settings.NON_FIELD_ERRORS_KEY, "__all__"}


class Conflict(APIException):
    """The rules of the procedure refuse this now (role, stage, a missing step)."""

    status_code = status.HTTP_409_CONFLICT
    default_detail = "The request conflicts with the state of the complaint."
    default_code = "conflict"


def flatten(detail, field=None):
    """(field, message) pairs from DRF's nested error detail; nested fields join with dots."""
    if isinstance(detail, dict):
        for key, value in detail.items():
            named = f"{field}.{key}" if field else str(key)
            yield from flatten(value, field if key in NON_FIELD_KEYS else named)
    elif isinstance(detail, list | tuple):
        for index, item in enumerate(detail):
            if isinstance(item, dict | list | tuple):
                yield from flatten(item, f"{field}.{index}" if field else str(index))
            else:
                yield field, str(item)
    else:
        yield field, str(detail)


def incomplete_response(refusal):
    """400, one error per missing element: wording the body lacks names the body; a missing
    enclosure or fact of the case is about the request as a whole."""
    errors = {}
    for item in refusal.missing:
        field = "body" if item.kind == Check.TEXT else api_settings.NON_FIELD_ERRORS_KEY
        errors.setdefault(field, []).append(str(item))
    return ValidationError(errors)


def exception_handler(exc, context):
    if isinstance(exc, ResponseIncomplete):
        exc = incomplete_response(exc)
    elif isinstance(exc, Refused):
        exc = Conflict(exc.message)
    elif isinstance(exc, UploadRejected):
        exc = ValidationError({"file": [exc.message]})
    elif isinstance(exc, DjangoValidationError):
        exc = ValidationError(as_serializer_error(exc))
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    data = response.data
    if isinstance(data, dict) and set(data) == {"detail"}:
        data = [data["detail"]]  # about the request as a whole: no field
    response.data = {
        "errors": [{"field": field, "message": message} for field, message in flatten(data)]
    }
    return response
