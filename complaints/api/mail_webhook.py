"""Email from a hosted mail service. Mailgun's inbound route posts each message here, signed
with the account's webhook signing key; django-anymail checks the signature (a bad one answers
400 and stores nothing) and parses the message, which then goes to the same service as the
IMAP mailboxes and the drop folder: stored once per Message-ID, threaded, or logged.

Off unless INBOUND_MAILGUN_SIGNING_KEY is set: the address then answers 404, as if absent.
"""

from anymail.webhooks.mailgun import MailgunInboundWebhookView
from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.http import Http404
from django.views.decorators.csrf import csrf_exempt

from complaints import services

MAILBOX = "mailgun"


@csrf_exempt
@login_not_required
def mailgun_inbound(request):
    if not settings.INBOUND_MAILGUN_SIGNING_KEY:
        raise Http404
    view = MailgunInboundWebhookView.as_view(
        webhook_signing_key=settings.INBOUND_MAILGUN_SIGNING_KEY
    )
    return view(request)


def inbound_email_received(sender, event, esp_name, **kwargs):
    """anymail's inbound signal, sent once the signature has been checked. An error here
    answers 500, which Mailgun takes as "try again later": nothing is lost, and the retry
    finds the message stored if it was."""
    services.inbound_receive(event.message.as_bytes(), mailbox=MAILBOX)


def _field(description):
    return {"type": "string", "description": description}


def document_in_schema(result, generator, request, public):
    """drf-spectacular's postprocessing hook: the webhook is anymail's view, not DRF's, so the
    OpenAPI description learns of it here."""
    result["paths"]["/api/v1/inbound/mailgun/"] = {
        "post": {
            "operationId": "inbound_mailgun",
            "summary": "Inbound email from Mailgun",
            "description": (
                "Mailgun's receiving route posts each email here (`forward()`, fully parsed). "
                "The signature is an HMAC-SHA256 of `timestamp` + `token` under "
                "INBOUND_MAILGUN_SIGNING_KEY, checked by django-anymail; the email then goes "
                "through the same inbound service as the IMAP mailboxes: threaded into its "
                "complaint, kept for staff, or logged as a new complaint. The same email "
                "posted again is stored once (by its Message-ID). No token: the signature is "
                "the authentication. Answers 404 unless INBOUND_MAILGUN_SIGNING_KEY is set."
            ),
            "tags": ["inbound"],
            "security": [],
            "requestBody": {
                "content": {
                    media_type: {
                        "schema": {
                            "type": "object",
                            "properties": {
                                "timestamp": _field("Seconds since the epoch, signed."),
                                "token": _field("Mailgun's random token, signed."),
                                "signature": _field("Hex HMAC-SHA256 of timestamp + token."),
                                "message-headers": _field("The headers, as JSON pairs."),
                                "body-plain": _field("The text."),
                                "body-html": _field("The HTML, if any."),
                                "attachment-count": _field("How many attachment-N files."),
                            },
                            "required": ["timestamp", "token", "signature"],
                        }
                    }
                    for media_type in ("multipart/form-data", "application/x-www-form-urlencoded")
                }
            },
            "responses": {
                "200": {"description": "Stored, or stored already."},
                "400": {"description": "The signature is missing or wrong; nothing stored."},
                "404": {"description": "Not configured here."},
            },
        }
    }
    return result
