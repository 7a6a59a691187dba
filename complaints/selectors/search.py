"""Search: each kind of query (reference, email, phone, words) goes to the one index that
answers it."""

import re

from django.db import connection
from django.db.models import Q

from complaints.models import phone_digits

PHONE_CHARACTERS = "0123456789 +()-./"


MIN_PHONE_DIGITS = 6


# Must match the expression of the index in migrations/0009_phone_suffix_index.py exactly.
PHONE_SUFFIX_SQL = "reverse(complaints_complaint.customer_phone_digits)"


REFERENCE_PATTERN = re.compile(r"^CMP-\d{4}-\d{6}$", re.IGNORECASE)


# Must match the expression of the index in migrations/0002_search_index.py exactly.
DOCUMENT_SQL = (
    "to_tsvector('simple'::regconfig, coalesce(complaints_complaint.customer_name, '') "
    "|| ' ' || coalesce(complaints_complaint.description, ''))"
)


def searches_words(text):
    """Whether complaints_search looks `text` up in the full-text index."""
    text = " ".join((text or "").split())
    if not text or REFERENCE_PATTERN.match(text) or "@" in text:
        return False
    digits = phone_digits(text)
    return not (len(digits) >= MIN_PHONE_DIGITS and not text.strip(PHONE_CHARACTERS))


def complaints_search(queryset, text):
    """Each kind of query goes to the one index that answers it."""
    text = " ".join((text or "").split())
    if not text:
        return queryset
    if REFERENCE_PATTERN.match(text):
        return queryset.filter(reference=text.upper())
    if "@" in text:
        return queryset.filter(customer_email__iexact=text)
    digits = phone_digits(text)
    if len(digits) >= MIN_PHONE_DIGITS and not text.strip(PHONE_CHARACTERS):
        # A national trunk "0" or an international "00" is not in the number as stored with
        # its country code. Dropping leading zeros keeps what is left a suffix of the number
        # in every form, which is what they all share.
        number_end = digits.lstrip("0") or digits
        if connection.vendor == "postgresql":
            return queryset.extra(  # noqa: S610  (the index's expression, parameterised)  # nosec B610
                where=[f"{PHONE_SUFFIX_SQL} LIKE %s"], params=[number_end[::-1] + "%"]
            )
        return queryset.filter(customer_phone_digits__endswith=number_end)
    if connection.vendor == "postgresql":
        return queryset.extra(  # noqa: S610  (a parameterised clause the ORM cannot express)  # nosec B610
            where=[f"{DOCUMENT_SQL} @@ websearch_to_tsquery('simple', %s)"], params=[text]
        )
    return queryset.filter(Q(customer_name__icontains=text) | Q(description__icontains=text))
