"""Letters to customers who have no email address or asked for post: the text staff wrote,
on the firm's letterhead (templates/letters/letter.html), as a PDF to print and post."""

from email.utils import parseaddr

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import timezone, translation

from complaints.workflow import Refused

# Lines of a postal address on the letter, as a window envelope shows them.
ADDRESS_MAX_LINES = 8
ADDRESS_MAX_LENGTH = 500


def address_lines(postal_address):
    """The address as its lines; Refused when there is nothing to post to."""
    lines = [" ".join(line.split()) for line in (postal_address or "").splitlines()]
    lines = [line for line in lines if line]
    if not lines:
        raise Refused("Write the customer's postal address.")
    if len(lines) > ADDRESS_MAX_LINES or len(postal_address) > ADDRESS_MAX_LENGTH:
        raise Refused(
            f"A postal address has at most {ADDRESS_MAX_LINES} lines and "
            f"{ADDRESS_MAX_LENGTH} characters."
        )
    return lines


def letter_html(complaint, *, subject, text, postal_address, enclosures=()):
    """The letter in the customer's language: its greeting, dates and footer, around the
    text staff wrote (from a template in that language, or their own words)."""
    with translation.override(complaint.preferred_language):
        return _letter_html(complaint, subject, text, postal_address, enclosures)


def _letter_html(complaint, subject, text, postal_address, enclosures):
    return render_to_string(
        "letters/letter.html",
        {
            "firm_name": settings.FIRM_NAME,
            "firm_address": settings.FIRM_ADDRESS,
            "firm_email": parseaddr(settings.DEFAULT_FROM_EMAIL)[1],
            "team_name": settings.COMPLAINTS_TEAM_NAME,
            "date": timezone.localdate(),
            "customer_name": complaint.customer_name,
            "address": address_lines(postal_address),
            "reference": complaint.reference,
            "subject": subject,
            "paragraphs": [part.strip() for part in text.split("\n\n") if part.strip()],
            "enclosures": list(enclosures),
        },
    )


def letter_pdf(html):
    """The letter as PDF bytes. Nothing is fetched while rendering: the letter's text is the
    writer's, and a renderer that followed its URLs would be a way to read the server's
    files or reach its network."""
    # Imported here: WeasyPrint loads the system's Pango when imported, which only letters need.
    try:
        from weasyprint import HTML
        from weasyprint.urls import URLFetcher
    except OSError as error:
        raise Refused(
            "Letters cannot be made on this server: WeasyPrint needs the Pango library "
            "(docs/correspondence.md, Letters)."
        ) from error

    return HTML(string=html, url_fetcher=URLFetcher(allowed_protocols=())).write_pdf()
