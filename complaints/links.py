"""The customer's link: a signed, expiring link that carries the complaint's random token,
never its id. Made for the emails, checked by the customer's pages."""

import re

from django.conf import settings
from django.core import signing
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

CUSTOMER_LINK_SALT = "complaints.customer-link"


class LinkProblem(Exception):
    def __init__(self, title, text):
        self.title, self.text = title, text


def customer_link(complaint):
    signed = signing.TimestampSigner(salt=CUSTOMER_LINK_SALT).sign(complaint.customer_token)
    return settings.SITE_URL + reverse("customer:status", args=[signed])


def without_customer_links(text):
    """`text` with each customer link replaced by a placeholder: a link lets whoever holds it
    answer as the customer, so staff reading a sent email see that it was there, not the link.
    """
    prefix = reverse("customer:status", args=["-"]).removesuffix("-/")
    pattern = r"\S*" + re.escape(prefix) + r"[^\s\"'<>]+"
    return re.sub(pattern, "[the customer's own link]", text)


def token_from_link(signed_token):
    """The complaint token a link carries, or LinkProblem saying in plain words what is wrong."""
    max_age = settings.CUSTOMER_LINK_MAX_AGE_DAYS * 86400
    try:
        return signing.TimestampSigner(salt=CUSTOMER_LINK_SALT).unsign(
            signed_token, max_age=max_age
        )
    except signing.SignatureExpired:
        raise LinkProblem(
            _("This link has expired"),
            _(
                "For your security, links to a complaint stop working after a while. Reply to "
                "any email from us, or call us quoting your reference, and we will send you a "
                "new one."
            ),
        ) from None
    except signing.BadSignature:
        raise LinkProblem(
            _("This link does not work"),
            _(
                "The link may have been copied incompletely. Please use the button in our "
                "email, or reply to it and we will help."
            ),
        ) from None
