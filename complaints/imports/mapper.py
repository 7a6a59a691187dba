"""A CFPB CSV row to the values of a new complaint, or the reason it is rejected.

Files run to hundreds of thousands of rows, so the mapping is plain: a row is checked and
mapped with string operations and caches on the values that repeat (dates, target dates), and
no model is built. It runs in the reading thread and touches no database.
"""

import functools
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.utils import timezone

from complaints import clocks
from complaints.models import (
    AcknowledgmentMethod,
    Channel,
    Complexity,
    ResolutionStatus,
    ResolutionType,
    new_customer_token,
    next_deadline,
)
from complaints.outcomes import cfpb_outcome
from complaints.spreadsheets import spreadsheet_value
from complaints.workflow import Stage

CFPB_COLUMNS = (
    "Date received",
    "Product",
    "Sub-product",
    "Issue",
    "Sub-issue",
    "Consumer complaint narrative",
    "Company public response",
    "Company",
    "State",
    "ZIP code",
    "Tags",
    "Consumer consent provided?",
    "Submitted via",
    "Date sent to company",
    "Company response to consumer",
    "Timely response?",
    "Consumer disputed?",
    "Complaint ID",
)
CFPB_CHANNELS = {
    "web": Channel.WEB,
    "web referral": Channel.WEB,
    "": Channel.WEB,
    "phone": Channel.PHONE,
    "email": Channel.EMAIL,
    "postal mail": Channel.LETTER,
    "fax": Channel.LETTER,
    "referral": Channel.LETTER,
}
# Company response -> (resolution type or None, stage).
CFPB_RESPONSES = {
    "closed with explanation": (ResolutionType.APOLOGY, Stage.REVIEWED),
    "closed with monetary relief": (ResolutionType.COMPENSATION, Stage.REVIEWED),
    "closed with non-monetary relief": (ResolutionType.CORRECTIVE_ACTION, Stage.REVIEWED),
    "closed with relief": (ResolutionType.CORRECTIVE_ACTION, Stage.REVIEWED),
    "closed without relief": (ResolutionType.NO_FAULT, Stage.REVIEWED),
    "closed": (ResolutionType.NO_FAULT, Stage.REVIEWED),
    "in progress": (None, Stage.INVESTIGATING),
    "untimely response": (None, Stage.INVESTIGATING),
}
YES_NO = {"yes": True, "no": False}
# The description of a complaint the CFPB published without a narrative starts so.
NO_NARRATIVE = "(No narrative published.)"
# A complaint is still a complaint when the file leaves its Product or Issue blank: it is
# filed under this name, made like any product or issue the file brings, for staff to correct.
NOT_STATED = "Not stated"


class RowError(Exception):
    """A row that cannot be imported: listed with its line while the other rows go in."""


# A file holds a few thousand distinct dates over a hundred thousand rows: each is worked out
# once. The caches are bounded, so a file of odd dates cannot grow them without limit.
@functools.lru_cache(maxsize=16384)
def _parse_date(value):
    return date.fromisoformat(value.strip())


def _day(value, label):
    try:
        return _parse_date(value)
    except ValueError:
        raise RowError(f"{label} {value!r} is not a date (YYYY-MM-DD)") from None


@functools.lru_cache(maxsize=16384)
def _noon(day, tz):
    return timezone.make_aware(datetime.combine(day, time(12, 0)), tz)


_due_date = functools.lru_cache(maxsize=16384)(clocks.due_date)


@dataclass(slots=True)
class Row:
    """One CFPB row, checked and mapped to what a new complaint would be written as.

    Product and issue stay names, (Product, Sub-product) and (Issue, Sub-issue), until the row
    is written: their ids may need creating, and mapping touches no database.
    """

    complaint_id: str
    external_reference: str
    product: tuple
    issue: tuple
    # The new complaint's columns, less reference, category, product and created/updated.
    complaint: dict
    # Its stage changes, resolution and feedback, less complaint_id.
    stage_changes: tuple
    resolution: dict | None
    feedback: dict | None
    # Product or Issue was blank, so it is filed under NOT_STATED.
    not_stated: bool
    category_id: int | None = None
    product_id: int | None = None

    def value(self, name):
        """The value the file gives for a field of UPDATABLE or CLOSING."""
        if name == "category_id":
            return self.category_id
        if name == "product_id":
            return self.product_id
        return self.complaint[name]

    def updatable(self):
        """The values of UPDATABLE, in that order."""
        complaint = self.complaint
        return (
            complaint["customer_region"],
            complaint["customer_postcode"],
            complaint["business_unit"],
            complaint["description"],
            complaint["interaction_details"],
            self.category_id,
            self.product_id,
            complaint["channel"],
        )


class CfpbMapper:
    """Checks a CFPB row and maps it to Redress's terms. No database: it runs in the reading
    thread, so what it needs is read before (holidays, the import user)."""

    def __init__(self, *, holidays, importer_id, owner_id, profile_id):
        self.holidays = holidays
        # History that ran on the CFPB's clocks; no clock row runs for it here.
        self.profile_id = profile_id
        self.importer_id = importer_id
        # Open history is owned by the import, so it does not bury today's intake queue.
        self.owner_id = owner_id
        # The caller's zone, read in the caller's thread: "noon local time" for every row.
        self.tz = timezone.get_current_timezone()
        amount, unit = settings.RESOLUTION_TARGETS[Complexity.STANDARD]
        self.target_clock = clocks.ClockSpec(amount, unit)
        self.team_zone = settings.TIME_ZONE
        self.acknowledgment_hours = timedelta(hours=settings.ACKNOWLEDGMENT_HOURS)
        self.new_day()

    def new_day(self):
        """Read today's date again: an import may run past midnight."""
        self.now = timezone.now()
        self.today = timezone.localdate(self.now, timezone=self.tz)

    def moment(self, day):
        """Noon on the day, local time: CFPB dates carry no time of day. Today's noon may
        not have come yet; nothing is received or answered in the future, so it is now."""
        if day < self.today:
            return _noon(day, self.tz)
        return min(_noon(day, self.tz), self.now)

    def row(self, values):
        if len(values) != len(CFPB_COLUMNS):
            raise RowError(f"has {len(values)} columns, expected {len(CFPB_COLUMNS)} (truncated?)")
        # A CFPB file from our own returns has its formula-like cells defused (a customer's
        # narrative may start with "="): read them as they were.
        values = [spreadsheet_value(value) for value in values]
        (
            received_text,
            product,
            sub_product,
            issue,
            sub_issue,
            narrative,
            _public_response,
            company,
            state,
            zip_code,
            _tags,
            _consent,
            via_text,
            sent_text,
            response_text,
            timely_text,
            disputed_text,
            complaint_id,
        ) = values
        complaint_id = complaint_id.strip()
        if not complaint_id.isdigit():
            raise RowError(f"Complaint ID {complaint_id!r} is not a number")
        received = _day(received_text, "Date received")
        sent = _day(sent_text, "Date sent to company") if sent_text.strip() else received
        if received > self.today:
            raise RowError(f"Date received {received} is in the future")
        response = response_text.strip()
        outcome = CFPB_RESPONSES.get(response.lower())
        if outcome is None:
            raise RowError(f"unknown company response {response_text!r}")
        via = via_text.strip()
        channel = CFPB_CHANNELS.get(via.lower())
        if channel is None:
            raise RowError(f"unknown channel {via_text!r}")
        not_stated = not product.strip() or not issue.strip()
        product = product if product.strip() else NOT_STATED
        issue = issue if issue.strip() else NOT_STATED
        issue_text = issue.strip() + (f": {sub_issue.strip()}" if sub_issue else "")
        narrative = narrative.strip()
        company = company.strip()
        resolution_type, stage = outcome
        timely = YES_NO.get(timely_text.strip().lower())
        disputed = YES_NO.get(disputed_text.strip().lower())

        closed = stage == Stage.REVIEWED
        received_at = self.moment(received)
        # A few rows were sent to the company before they were received; we cannot acknowledge
        # before receipt, so the acknowledgment is taken as the moment of receipt.
        acknowledged_at = max(self.moment(sent), received_at)
        acknowledgment_due_at = received_at + self.acknowledgment_hours
        target_date = _due_date(self.target_clock, received_at, self.team_zone, self.holidays)
        complaint = {
            "external_reference": f"CFPB-{complaint_id}",
            "customer_name": f"CFPB consumer {complaint_id}",
            "customer_region": state.strip()[:60],
            "customer_postcode": zip_code.strip()[:12],
            "business_unit": company[:200],
            "description": narrative or f"{NO_NARRATIVE} Issue: {issue_text}",
            "interaction_details": (
                f"Submitted to the CFPB via {via or 'an unknown channel'}"
                f"; sent to {company or 'the company'} on {sent.isoformat()}."
            ),
            "channel": channel,
            "outcome": cfpb_outcome(response) or "",
            "date_of_complaint": received,
            "assignee_id": None if closed else self.owner_id,
            "customer_token": new_customer_token(),
            "complexity": Complexity.STANDARD,
            "profile_id": self.profile_id,
            "customer_country": "US",
            "stage": stage,
            "received_at": received_at,
            "acknowledgment_due_at": acknowledgment_due_at,
            "acknowledged_at": acknowledged_at,
            "acknowledgment_method": AcknowledgmentMethod.LETTER,
            "resolution_target_date": target_date,
            # What Complaint.save() would keep in step; bulk inserts do not call it.
            "next_deadline_at": next_deadline(stage, acknowledgment_due_at, target_date),
            "investigation_started_at": acknowledged_at,
            "resolved_at": acknowledged_at if closed else None,
            "reviewed_at": acknowledged_at if closed else None,
            "closed_at": acknowledged_at if closed else None,
            # Historical complaints carry their clock marks already, so today's jobs leave
            # them be.
            "acknowledgment_warned_at": acknowledged_at,
            "acknowledgment_breached_at": (
                acknowledged_at if acknowledged_at > acknowledgment_due_at else None
            ),
            "resolution_overdue_at": (
                self.moment(target_date)
                if timely is False or (not closed and target_date < self.today)
                else None
            ),
        }
        return Row(
            complaint_id=complaint_id,
            external_reference=complaint["external_reference"],
            product=(product, sub_product),
            issue=(issue, sub_issue),
            not_stated=not_stated,
            complaint=complaint,
            stage_changes=(
                {
                    "complaint_id": None,
                    "from_stage": "",
                    "to_stage": Stage.RECEIVED,
                    "at": received_at,
                    "note": f"Imported from the CFPB database ({response})",
                },
                {
                    "complaint_id": None,
                    "from_stage": Stage.RECEIVED,
                    "to_stage": Stage.ACKNOWLEDGED,
                    "at": acknowledged_at,
                    "note": "Sent to the company",
                },
                {
                    "complaint_id": None,
                    "from_stage": Stage.ACKNOWLEDGED,
                    "to_stage": stage,
                    "at": acknowledged_at,
                    "note": f"Company response: {response}",
                },
            ),
            resolution=None
            if resolution_type is None
            else {
                "complaint_id": None,
                "type": resolution_type,
                "description": f"Company response: {response}",
                "status": ResolutionStatus.IMPLEMENTED,
                "proposed_by_id": self.importer_id,
                "proposed_at": acknowledged_at,
                "implemented_by_id": self.importer_id,
                "implemented_at": acknowledged_at,
                "implementation_notes": "Imported; the company's response as published",
            },
            feedback=None
            if disputed is None
            else {
                "complaint_id": None,
                "score": None,
                "resolved": not disputed,
                "comment": "Consumer disputed the response" if disputed else "",
                "submitted_at": acknowledged_at,
            },
        )
