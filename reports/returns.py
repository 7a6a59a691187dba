"""The regulators' returns (docs/returns.md): the FCA complaints return's figures, ASIC's IDR
data report and a CFPB-shaped export, for one regulatory profile and a period of local days.

Reads only. Each return is a few aggregate queries grouped by what the figures need (product,
issue, root cause, outcome, the days received and closed), then mapped to the regulator's
groupings in Python: the cost follows the number of distinct groups, not of complaints.
"""

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from decimal import Decimal

from django.conf import settings
from django.db.models import Count, DateTimeField, F, Q, Sum
from django.db.models.functions import Coalesce, TruncDate
from django.urls import reverse
from django.utils import timezone

from complaints.clocks import calendars
from complaints.imports import CFPB_COLUMNS
from complaints.imports.mapper import NO_NARRATIVE
from complaints.models import (
    MONEY_RESOLUTION_TYPES,
    Category,
    Channel,
    Complaint,
    Feedback,
    GroupingDimension,
    Holiday,
    Product,
    Resolution,
    ResolutionStatus,
    ReturnGrouping,
)
from complaints.outcomes import OUTCOME_LABELS, UPHELD, Scheme, cfpb_outcome, is_outcome_of
from complaints.workflow import Stage

# Neither is a complaint of its own in a return: a duplicate is counted in the complaint it
# repeats, and an enquiry was never a complaint.
NOT_REPORTED = (Stage.DUPLICATE, Stage.NOT_A_COMPLAINT)
# Past these stages the firm has given its answer (or the customer withdrew): the complaint
# is closed for the returns, at resolved_at (its final response) or, if withdrawn, closed_at.
ANSWERED = (Stage.RESOLVED, Stage.FOLLOW_UP, Stage.DOCUMENTED, Stage.REVIEWED)
CLOSED_FOR_RETURNS = (*ANSWERED, Stage.WITHDRAWN)
UNMAPPED = "Not mapped"
# DISP 1.10: closed within three business days, within eight weeks, or later.
FCA_BANDS = ("within_3_business_days", "within_8_weeks", "after_8_weeks")
EIGHT_WEEKS = timedelta(weeks=8)


@dataclass(frozen=True)
class Period:
    """Local days first..last, both included, in the profile calendar's time zone."""

    first: object
    last: object
    zone: object

    @property
    def starts_at(self):
        return datetime.combine(self.first, time(0), tzinfo=self.zone)

    @property
    def ends_at(self):
        return datetime.combine(self.last + timedelta(days=1), time(0), tzinfo=self.zone)


def period_of(profile, first, last):
    return Period(first, last, profile.calendar.as_calendar().zone)


def half_year_containing(day):
    """The half-year (January to June, July to December) a day falls in."""
    if day.month <= 6:
        return day.replace(month=1, day=1), day.replace(month=6, day=30)
    return day.replace(month=7, day=1), day.replace(month=12, day=31)


def last_half_year(today):
    first, _ = half_year_containing(today)
    return half_year_containing(first - timedelta(days=1))


def _reported(profile):
    return (
        Complaint.objects.filter(profile=profile)
        .exclude(stage__in=NOT_REPORTED)
        .annotate(
            closed_on=Coalesce(F("resolved_at"), F("closed_at"), output_field=DateTimeField())
        )
    )


def _closed_by(moment):
    """Closed for the returns before `moment` (and still closed now)."""
    return Q(stage__in=CLOSED_FOR_RETURNS, closed_on__lt=moment)


def _in(period, name):
    return Q(**{f"{name}__gte": period.starts_at, f"{name}__lt": period.ends_at})


class Groupings:
    """Our taxonomy to a scheme's groupings: a product's (or its parent's), else its issue's;
    a root cause's, else its issue's (or the issue's parent's)."""

    def __init__(self, scheme):
        self.by = defaultdict(dict)
        for grouping in ReturnGrouping.objects.filter(scheme=scheme):
            source = ("product", grouping.product_id) if grouping.product_id else None
            if grouping.category_id:
                source = ("category", grouping.category_id)
            if grouping.root_cause_id:
                source = ("root_cause", grouping.root_cause_id)
            self.by[grouping.dimension][source] = (grouping.code, grouping.label)
        self.product_parent = dict(Product.objects.values_list("pk", "parent_id"))
        self.category_parent = dict(Category.objects.values_list("pk", "parent_id"))

    def _find(self, dimension, kind, pk, parents):
        mapped = self.by[dimension]
        while pk is not None:
            if (kind, pk) in mapped:
                return mapped[(kind, pk)]
            pk = parents.get(pk) if parents is not None else None
        return None

    def product(self, product_id, category_id):
        dimension = GroupingDimension.PRODUCT
        return self._find(dimension, "product", product_id, self.product_parent) or self._find(
            dimension, "category", category_id, self.category_parent
        )

    def cause(self, root_cause_id, category_id):
        dimension = GroupingDimension.CAUSE
        return self._find(dimension, "root_cause", root_cause_id, None) or self._find(
            dimension, "category", category_id, self.category_parent
        )


# FCA ----------------------------------------------------------------------------------


def _business_calendar(profile):
    closed = Holiday.objects.filter(
        Q(calendar__isnull=True) | Q(calendar=profile.calendar)
    ).values_list("date", flat=True)
    return profile.calendar.as_calendar(frozenset(closed))


def fca_band(received_day, closed_day, calendar):
    if closed_day <= calendars.add_business_days(received_day, 3, calendar):
        return FCA_BANDS[0]
    if closed_day <= received_day + EIGHT_WEEKS:
        return FCA_BANDS[1]
    return FCA_BANDS[2]


def _row_label(mapped):
    return mapped[1] if mapped else UNMAPPED


def fca_return(profile, period):
    """The complaints return's figures (DISP 1.10, DISP 1 Annex 1R): outstanding at the
    start, opened, closed by time band, upheld (with partly upheld) and redress paid, in
    total and by product grouping and cause."""
    groupings = Groupings(Scheme.FCA)
    calendar = _business_calendar(profile)
    reported = _reported(profile)
    keys = ("product_id", "category_id", "root_cause_id")
    rows = defaultdict(Counter)

    def row_of(product_id, category_id, root_cause_id):
        return (
            _row_label(groupings.product(product_id, category_id)),
            _row_label(groupings.cause(root_cause_id, category_id)),
        )

    outstanding = (
        reported.filter(received_at__lt=period.starts_at)
        .exclude(_closed_by(period.starts_at))
        .count()
    )
    for group in reported.filter(_in(period, "received_at")).values(*keys).annotate(n=Count("id")):
        rows[row_of(*(group[k] for k in keys))]["opened"] += group["n"]

    closed = reported.filter(_in(period, "closed_on"), stage__in=CLOSED_FOR_RETURNS)
    for group in (
        closed.annotate(
            received_day=TruncDate("received_at", tzinfo=period.zone),
            closed_day=TruncDate("closed_on", tzinfo=period.zone),
        )
        .values(*keys, "outcome", "received_day", "closed_day")
        .annotate(n=Count("id"))
    ):
        row = rows[row_of(*(group[k] for k in keys))]
        row["closed"] += group["n"]
        row[fca_band(group["received_day"], group["closed_day"], calendar)] += group["n"]
        if group["outcome"] in UPHELD:
            row["upheld"] += group["n"]

    redress = defaultdict(Decimal)
    for group in (
        Resolution.objects.filter(
            complaint__in=closed.values("pk"),
            status=ResolutionStatus.IMPLEMENTED,
            type__in=MONEY_RESOLUTION_TYPES,
            amount__isnull=False,
        )
        .values(
            "complaint__product_id",
            "complaint__category_id",
            "complaint__root_cause_id",
            "currency",
        )
        .annotate(paid=Sum("amount"))
    ):
        key = row_of(
            group["complaint__product_id"],
            group["complaint__category_id"],
            group["complaint__root_cause_id"],
        )
        redress[(key, group["currency"])] += group["paid"]

    total = Counter()
    for row in rows.values():
        total.update(row)
    paid = defaultdict(Decimal)
    for (_, currency), amount in redress.items():
        paid[currency] += amount
    table = [
        {
            "product_grouping": product,
            "cause": cause,
            "opened": figures["opened"],
            "closed": figures["closed"],
            **{band: figures[band] for band in FCA_BANDS},
            "upheld": figures["upheld"],
            "redress": {
                currency: str(amount)
                for (key, currency), amount in sorted(redress.items())
                if key == (product, cause)
            },
        }
        for (product, cause), figures in sorted(rows.items())
    ]
    return {
        "outstanding_at_start": outstanding,
        "opened": total["opened"],
        "closed": total["closed"],
        "bands": {band: total[band] for band in FCA_BANDS},
        "upheld": total["upheld"],
        "upheld_share": _share(total["upheld"], total["closed"]),
        "redress_paid": {currency: str(amount) for currency, amount in sorted(paid.items())},
        "by_grouping": table,
    }


def _share(part, whole):
    return round(100 * part / whole, 1) if whole else None


FCA_CSV_COLUMNS = (
    "Product grouping",
    "Cause",
    "Opened",
    "Closed",
    "Closed within 3 business days",
    "Closed within 8 weeks",
    "Closed after 8 weeks",
    "Upheld",
    "Redress paid",
)


def fca_csv_rows(figures):
    for row in figures["by_grouping"]:
        yield [
            row["product_grouping"],
            row["cause"],
            row["opened"],
            row["closed"],
            *(row[band] for band in FCA_BANDS),
            row["upheld"],
            "; ".join(f"{currency} {amount}" for currency, amount in row["redress"].items()),
        ]


# ASIC ---------------------------------------------------------------------------------

# The IDR data dictionary's data elements, in its order (docs/returns.md names the version).
ASIC_COLUMNS = (
    "Unique identifier",
    "Brand",
    "Complainant gender",
    "Complainant age",
    "Complainant postcode",
    "Complaint received method",
    "Date complaint received",
    "Complaint status",
    "Date complaint closed",
    "Days to close",
    "Representative involved",
    "Product or service",
    "Issue",
    "Outcome",
    "Monetary remedy",
)
ASIC_METHODS = {
    Channel.PHONE: "Phone",
    Channel.EMAIL: "Email",
    Channel.WEB: "Online",
    Channel.LETTER: "Letter",
    Channel.IN_PERSON: "In person",
    Channel.SOCIAL_MEDIA: "Social media",
}
ASIC_WITHDRAWN = "asic_withdrawn"


def _asic_scope(profile, period):
    """The complaints an IDR report holds: received in the period, or received before it and
    not closed at its start (ASIC's IDR data reporting handbook)."""
    return (
        _reported(profile)
        .filter(received_at__lt=period.ends_at)
        .exclude(_closed_by(period.starts_at))
    )


def _money_paid(complaint_ids):
    paid = defaultdict(Decimal)
    for complaint_id, amount in Resolution.objects.filter(
        complaint_id__in=complaint_ids,
        status=ResolutionStatus.IMPLEMENTED,
        type__in=MONEY_RESOLUTION_TYPES,
        amount__isnull=False,
    ).values_list("complaint_id", "amount"):
        paid[complaint_id] += amount
    return paid


ASIC_FIELDS = (
    "pk",
    "reference",
    "business_unit",
    "complainant_gender",
    "complainant_age_band",
    "customer_postcode",
    "channel",
    "received_at",
    "stage",
    "closed_on",
    "represented",
    "product_id",
    "category_id",
    "root_cause_id",
    "outcome",
)


def asic_records(profile, period):
    """One dict per complaint of the report: its row (`row`, dates and amounts typed, as
    the CSV and XLSX write them) and what it lacks."""
    groupings = Groupings(Scheme.ASIC)
    records = list(_asic_scope(profile, period).order_by("received_at", "pk").values(*ASIC_FIELDS))
    paid = _money_paid([r["pk"] for r in records])
    for record in records:
        closed = record["stage"] in CLOSED_FOR_RETURNS and record["closed_on"] < period.ends_at
        product = groupings.product(record["product_id"], record["category_id"])
        issue = groupings.cause(record["root_cause_id"], record["category_id"])
        outcome = record["outcome"]
        if record["stage"] == Stage.WITHDRAWN:
            outcome = ASIC_WITHDRAWN
        received_day = timezone.localtime(record["received_at"], period.zone).date()
        closed_day = timezone.localtime(record["closed_on"], period.zone).date() if closed else None
        missing = []
        if product is None:
            missing.append("the product's ASIC code")
        if issue is None:
            missing.append("the issue's ASIC code")
        if closed and not is_outcome_of(outcome, Scheme.ASIC):
            missing.append("an ASIC outcome")
        record["missing"] = missing
        record["row"] = [
            record["reference"],
            record["business_unit"] or settings.FIRM_NAME,
            record["complainant_gender"],
            record["complainant_age_band"],
            record["customer_postcode"],
            ASIC_METHODS[record["channel"]],
            received_day,
            "Closed" if closed else "Open",
            closed_day or "",
            (closed_day - received_day).days if closed_day else "",
            "Yes" if record["represented"] else "No",
            product[0] if product else "",
            issue[0] if issue else "",
            outcome if closed else "",
            paid.get(record["pk"], ""),
        ]
    return records


def asic_summary(records):
    counts = Counter(record["row"][7] for record in records)
    outcomes = Counter(record["row"][13] for record in records if record["row"][13])
    return {
        "complaints": len(records),
        "open": counts["Open"],
        "closed": counts["Closed"],
        "by_outcome": [[OUTCOME_LABELS.get(code, code), n] for code, n in sorted(outcomes.items())],
        "monetary_remedy": str(
            sum((r["row"][14] for r in records if r["row"][14] != ""), Decimal(0))
        ),
    }


# CFPB ---------------------------------------------------------------------------------

CFPB_VIA = {
    Channel.WEB: "Web",
    Channel.PHONE: "Phone",
    Channel.EMAIL: "Email",
    Channel.LETTER: "Postal mail",
}


def _names(model, ids):
    """Each id's (name, sub-name): a child's parent first, as the CFPB's columns pair them."""
    rows = {
        pk: (name, parent)
        for pk, name, parent in model.objects.values_list("pk", "name", "parent_id")
    }
    names = {}
    for pk in ids:
        if pk is None:
            names[pk] = ("", "")
            continue
        name, parent = rows[pk]
        names[pk] = (rows[parent][0], name) if parent else (name, "")
    return names


CFPB_FIELDS = (
    "pk",
    "reference",
    "external_reference",
    "date_of_complaint",
    "product_id",
    "category_id",
    "description",
    "business_unit",
    "customer_region",
    "customer_postcode",
    "channel",
    "acknowledged_at",
    "stage",
    "outcome",
    "resolution_overdue_at",
)


def cfpb_records(profile, period):
    """The profile's complaints received in the period, each with its row in the CFPB's
    columns (complaints.imports.CFPB_COLUMNS) and what it lacks. Products and issues are
    written as our taxonomy names them: for imported complaints, the CFPB's own."""
    records = list(
        _reported(profile)
        .filter(_in(period, "received_at"))
        .order_by("received_at", "pk")
        .values(*CFPB_FIELDS)
    )
    products = _names(Product, {r["product_id"] for r in records})
    issues = _names(Category, {r["category_id"] for r in records})
    disputed = dict(
        Feedback.objects.filter(complaint_id__in=[r["pk"] for r in records])
        .order_by("complaint_id", "submitted_at")
        .values_list("complaint_id", "resolved")
    )
    for record in records:
        missing = []
        if record["product_id"] is None:
            missing.append("a product")
        via = CFPB_VIA.get(record["channel"])
        if via is None:
            missing.append("a channel the CFPB knows (web, phone, email or letter)")
        open_case = record["stage"] not in CLOSED_FOR_RETURNS
        outcome = record["outcome"]
        if outcome and cfpb_outcome(OUTCOME_LABELS[outcome]) is None:
            missing.append("a CFPB company response in place of another regulator's outcome")
        elif not open_case and not outcome:
            missing.append("a CFPB company response")
        response = OUTCOME_LABELS[outcome] if outcome else ("In progress" if open_case else "")
        external = record["external_reference"] or ""
        complaint_id = external[5:] if external.startswith("CFPB-") else str(record["pk"])
        narrative = record["description"]
        if narrative.startswith(NO_NARRATIVE):
            narrative = ""
        answer = disputed.get(record["pk"])
        sent = record["acknowledged_at"]
        record["missing"] = missing
        record["row"] = [
            record["date_of_complaint"],
            *products[record["product_id"]],
            *issues[record["category_id"]],
            narrative,
            "",
            record["business_unit"],
            record["customer_region"],
            record["customer_postcode"],
            "",
            "",
            via or "",
            timezone.localtime(sent, period.zone).date() if sent else "",
            response,
            "No" if record["resolution_overdue_at"] else "Yes",
            "" if answer is None else ("No" if answer else "Yes"),
            complaint_id,
        ]
    return records


def cfpb_summary(records):
    responses = Counter(record["row"][14] for record in records)
    return {
        "complaints": len(records),
        "by_response": [[response or "(none)", n] for response, n in sorted(responses.items())],
    }


# Validation ---------------------------------------------------------------------------


@dataclass
class Problem:
    reference: str
    url: str
    missing: list = field(default_factory=list)


def _problem(pk, reference, missing):
    return Problem(reference, reverse("complaints:detail", args=[pk]), missing)


def fca_problems(profile, period):
    """Closed complaints of the period without an FCA outcome, and the period's complaints
    whose product or cause has no FCA grouping."""
    groupings = Groupings(Scheme.FCA)
    problems = []
    scope = _reported(profile).filter(
        _in(period, "received_at") | (_in(period, "closed_on") & Q(stage__in=CLOSED_FOR_RETURNS))
    )
    for record in scope.order_by("received_at", "pk").values(
        "pk", "reference", "stage", "outcome", "product_id", "category_id", "root_cause_id"
    ):
        missing = []
        if groupings.product(record["product_id"], record["category_id"]) is None:
            missing.append("the product's FCA grouping")
        if groupings.cause(record["root_cause_id"], record["category_id"]) is None:
            missing.append("an FCA cause for the issue or root cause")
        if record["stage"] in ANSWERED and not is_outcome_of(record["outcome"], Scheme.FCA):
            missing.append("an FCA outcome (upheld, partly upheld, not upheld)")
        if missing:
            problems.append(_problem(record["pk"], record["reference"], missing))
    return problems


def record_problems(records):
    return [_problem(r["pk"], r["reference"], r["missing"]) for r in records if r["missing"]]


# One return, whatever the scheme ---------------------------------------------------------


@dataclass
class Contents:
    figures: dict
    columns: tuple
    rows: list
    records: int
    problems: list


def return_contents(profile, period):
    """The return the profile's scheme asks for: its figures, its CSV and its problems."""
    scheme = profile.returns_scheme
    if scheme == Scheme.FCA:
        figures = fca_return(profile, period)
        return Contents(
            figures,
            FCA_CSV_COLUMNS,
            list(fca_csv_rows(figures)),
            figures["outstanding_at_start"] + figures["opened"],
            fca_problems(profile, period),
        )
    if scheme == Scheme.ASIC:
        records, summary, columns = asic_records(profile, period), asic_summary, ASIC_COLUMNS
    else:
        records, summary, columns = cfpb_records(profile, period), cfpb_summary, CFPB_COLUMNS
    return Contents(
        summary(records),
        columns,
        [record["row"] for record in records],
        len(records),
        record_problems(records),
    )
