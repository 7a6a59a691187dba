"""A subject access request answered: one ZIP with everything the chosen cases hold about the
person (data.json), their documents, and a readable summary (summary.pdf); each case's
timeline notes that the export was made, and by whom."""

import io
import json
import zipfile
from pathlib import PurePath

from django.db import transaction
from django.utils import timezone

from accounts.roles import Capability, can
from complaints.models import Attachment, Note
from complaints.selectors.subject_access import subject_case_data, subject_complaints
from complaints.services.attachments import attachment_path
from complaints.workflow import Refused


def _document_name(reference, document):
    # The stored name is ours; the person's file name is kept, made safe for every unzipper.
    name = PurePath(document["name"].replace("\\", "/")).name or "document"
    return f"documents/{reference}/{document['id']}-{name}"


def _latin(text):
    """The PDF's built-in font speaks Latin-1; data.json keeps every character as it was."""
    return str(text).encode("latin-1", "replace").decode("latin-1")


def _pdf(subject, cases, at):
    # Imported here: fpdf takes a quarter of a second to import, which every web process
    # would otherwise pay on its first request for an export few of them ever make.
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.add_page()

    def paragraph(height, text):
        # Each paragraph starts on the left margin of the next line.
        pdf.multi_cell(0, height, _latin(text), new_x="LMARGIN", new_y="NEXT")

    pdf.set_font("Helvetica", "B", 15)
    paragraph(8, f"Subject access request: {subject}")
    pdf.set_font("Helvetica", size=10)
    paragraph(
        6,
        f"Prepared {timezone.localtime(at):%d %B %Y %H:%M}. {len(cases)} complaint(s). "
        "Every detail is in data.json and each document under documents/.",
    )

    def line(label, value):
        if value in (None, "", []):
            return
        pdf.set_font("Helvetica", "B", 10)
        paragraph(5, label)
        pdf.set_font("Helvetica", size=10)
        paragraph(5, value)

    for case in cases:
        pdf.ln(4)
        pdf.set_font("Helvetica", "B", 12)
        paragraph(7, f"Complaint {case['reference']} ({case['stage']})")
        for label, key in (
            ("Received", "received_at"),
            ("Name", "customer_name"),
            ("Email", "customer_email"),
            ("Phone", "customer_phone"),
            ("Postcode", "customer_postcode"),
            ("Postal address", "customer_address"),
            ("Representative", "representative_name"),
            ("Gender", "complainant_gender"),
            ("Age", "complainant_age_band"),
            ("What happened", "description"),
            ("Details of the contact", "interaction_details"),
        ):
            line(label, case[key])
        for note in case["notes"]:
            line(f"Note, {note['at']}", note["text"])
        for email in case["emails"]:
            line(f"Email '{email['subject']}', {email['at']}", email["body"])
        for given in case["resolutions"]:
            money = f" {given['amount']} {given['currency']}" if given["amount"] else ""
            line(
                f"Resolution, {given['proposed_at']}",
                f"{given['type']}{money}: {given['description']} ({given['status']})",
            )
        for feedback in case["feedback"]:
            line(f"Feedback, {feedback['submitted_at']}", feedback["comment"] or feedback["score"])
        for document in case["documents"]:
            line("Document", f"{document['name']} ({document['size']} bytes)")
    return bytes(pdf.output())


@transaction.atomic
def subject_access_export(subject, complaint_ids, *, actor):
    """The ZIP (its bytes) of the chosen cases among those found for `subject`."""
    if not can(actor, Capability.PROTECT_PERSONAL_DATA):
        raise Refused("Only a manager may export a person's data.")
    found = subject_complaints(subject).filter(pk__in=complaint_ids)
    complaints = list(found)
    if not complaints:
        raise Refused("Choose at least one of the complaints found for this person.")
    at = timezone.now()
    cases = [subject_case_data(complaint) for complaint in complaints]
    attachments = {
        a.pk: a for a in Attachment.objects.filter(complaint__in=complaints).only("stored_name")
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for case in cases:
            for document in case["documents"]:
                path = attachment_path(attachments[document["id"]])
                document["file"] = (
                    _document_name(case["reference"], document) if path.exists() else None
                )
                if document["file"]:
                    archive.write(path, document["file"])
        archive.writestr(
            "data.json",
            json.dumps(
                {"subject": str(subject), "prepared_at": at.isoformat(), "complaints": cases},
                indent=2,
                ensure_ascii=False,
            ),
        )
        archive.writestr("summary.pdf", _pdf(subject, cases, at))
    Note.objects.bulk_create(
        Note(
            complaint=complaint,
            author=actor,
            text=f"Subject access request: the customer's data was exported by {actor} "
            f"({len(complaints)} complaint(s) in the export).",
        )
        for complaint in complaints
    )
    return buffer.getvalue(), [complaint.reference for complaint in complaints]
