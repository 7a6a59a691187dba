"""The regulators' returns on hand-made complaints whose every figure is known: the FCA
return's figures, the ASIC IDR report's rows, the CFPB export read back by our own import;
the validation report; the record of each return produced; who may produce one."""

import csv
import io
import zipfile
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from django.urls import reverse

from accounts.models import SecurityEvent, SecurityEventKind
from complaints import services
from complaints.imports import CFPB_COLUMNS, import_cfpb
from complaints.models import (
    Category,
    Complaint,
    Product,
    RegulatoryProfile,
    ReturnGrouping,
    RootCause,
)
from complaints.spreadsheets import (
    XLSX_MAX_ROWS,
    TooManyRows,
    spreadsheet_safe,
    spreadsheet_value,
    xlsx_workbook,
)
from reports import returns
from reports.models import ReturnRun
from tests import factories

LONDON = ZoneInfo("Europe/London")
H1_2026 = (date(2026, 1, 1), date(2026, 6, 30))


def at(day, hour=10):
    return datetime.combine(day, time(hour), tzinfo=LONDON)


def profile(code):
    RegulatoryProfile.objects.filter(code=code).update(active=True)
    return RegulatoryProfile.objects.get(code=code)


def map_to(scheme, dimension, code, label, **source):
    ReturnGrouping.objects.create(
        scheme=scheme, dimension=dimension, code=code, label=label, **source
    )


@pytest.fixture
def fca_groupings():
    card, mortgage = factories.product("Credit card"), factories.product("Mortgage")
    billing, outage = factories.category("Billing error"), factories.category("Service outage")
    map_to("fca", "product", "bcc", "Banking and credit cards", product=card)
    map_to("fca", "product", "home", "Home finance", product=mortgage)
    map_to("fca", "cause", "terms", "Terms and disputed sums/charges", category=billing)
    map_to("fca", "cause", "admin", "General admin/customer service", category=outage)
    return {"card": card, "mortgage": mortgage, "billing": billing, "outage": outage}


class Cases:
    """Hand-made complaints under one profile: walked through the services, then dated."""

    def __init__(self, people, under):
        self.csr, self.resolver, self.manager = people
        self.profile = under

    def make(self, stage, product, category, **overrides):
        return factories.complaint_at_stage(
            stage,
            csr=self.csr,
            resolver=self.resolver,
            manager=self.manager,
            product=product,
            category=category,
            **overrides,
        )

    def with_money(self, product, category, kind, amount):
        complaint = self.make("investigating", product, category)
        services.resolution_propose(
            complaint, actor=self.csr, type=kind, amount=amount, description="We will pay."
        )
        services.resolution_record_customer_response(complaint, actor=self.csr, accepted=True)
        services.resolution_implement(complaint, actor=self.csr, notes="Paid.")
        return complaint

    def date(self, complaint, received, closed=None, *, outcome=None, profile=None):
        Complaint.objects.filter(pk=complaint.pk).update(profile=profile or self.profile)
        if outcome:
            services.complaint_outcome_record(complaint, actor=self.manager, outcome=outcome)
        complaint.refresh_from_db()
        changes = {
            "received_at": at(received),
            "acknowledgment_due_at": at(received) + timedelta(days=1),
            "date_of_complaint": received,
        }
        if complaint.resolved_at:
            changes["resolved_at"] = at(closed)
        if complaint.closed_at:
            changes["closed_at"] = at(closed)
        Complaint.objects.filter(pk=complaint.pk).update(**changes)
        return complaint


@pytest.fixture
def people(csr, resolver, manager):
    return csr, resolver, manager


def test_the_fca_return_of_a_known_half_year(people, fca_groupings, manager):
    g = fca_groupings
    cases = Cases(people, profile("fca"))
    refund = cases.with_money(g["card"], g["billing"], "refund", Decimal("50.00"))
    cases.date(refund, date(2025, 12, 20), date(2026, 1, 10), outcome="upheld")  # A
    quick = cases.make("follow_up", g["card"], g["billing"])
    cases.date(quick, date(2026, 3, 2), date(2026, 3, 5), outcome="not_upheld")  # B: 3rd day
    fourth = cases.with_money(g["mortgage"], g["outage"], "compensation", Decimal("100.00"))
    cases.date(fourth, date(2026, 3, 2), date(2026, 3, 6), outcome="partly_upheld")  # C
    easter = cases.make("documented", g["mortgage"], g["outage"])
    # Good Friday and Easter Monday are no business days: the 8th is the second after the 2nd.
    cases.date(easter, date(2026, 4, 2), date(2026, 4, 8), outcome="not_upheld")  # D
    late = cases.make("reviewed", g["card"], g["outage"])
    cases.date(late, date(2026, 1, 5), date(2026, 3, 10))  # E: 64 days, upheld
    cases.date(cases.make("investigating", g["card"], g["billing"]), date(2026, 6, 20))  # F
    withdrawn = cases.make("acknowledged", g["card"], g["billing"])
    services.complaint_withdraw(
        withdrawn, actor=people[0], customer_words="Sorted.", withdrawn_on=date.today()
    )
    cases.date(withdrawn, date(2026, 5, 1), date(2026, 5, 3))  # G
    cases.date(cases.make("investigating", g["card"], g["billing"]), date(2026, 7, 2))  # after
    enquiry = cases.make("acknowledged", g["card"], g["billing"])
    services.complaint_not_a_complaint(enquiry, actor=people[0], reason="Opening hours.")
    cases.date(enquiry, date(2026, 3, 3), date(2026, 3, 3))  # not a complaint
    earlier = cases.make("follow_up", g["card"], g["billing"])
    cases.date(earlier, date(2025, 11, 1), date(2025, 12, 1), outcome="upheld")  # before
    house = cases.make("follow_up", g["card"], g["billing"])
    cases.date(house, date(2026, 3, 2), date(2026, 3, 3), profile=profile("house"))

    fca = RegulatoryProfile.objects.get(code="fca")
    figures = returns.fca_return(fca, returns.period_of(fca, *H1_2026))

    assert figures == {
        "outstanding_at_start": 1,
        "opened": 6,
        "closed": 6,
        "bands": {"within_3_business_days": 3, "within_8_weeks": 2, "after_8_weeks": 1},
        "upheld": 3,
        "upheld_share": 50.0,
        "redress_paid": {"GBP": "150.00"},
        "by_grouping": [
            {
                "product_grouping": "Banking and credit cards",
                "cause": "General admin/customer service",
                "opened": 1,
                "closed": 1,
                "within_3_business_days": 0,
                "within_8_weeks": 0,
                "after_8_weeks": 1,
                "upheld": 1,
                "redress": {},
            },
            {
                "product_grouping": "Banking and credit cards",
                "cause": "Terms and disputed sums/charges",
                "opened": 3,
                "closed": 3,
                "within_3_business_days": 2,
                "within_8_weeks": 1,
                "after_8_weeks": 0,
                "upheld": 1,
                "redress": {"GBP": "50.00"},
            },
            {
                "product_grouping": "Home finance",
                "cause": "General admin/customer service",
                "opened": 2,
                "closed": 2,
                "within_3_business_days": 1,
                "within_8_weeks": 1,
                "after_8_weeks": 0,
                "upheld": 1,
                "redress": {"GBP": "100.00"},
            },
        ],
    }


def test_the_fca_validation_names_what_each_record_lacks(people, fca_groupings):
    g = fca_groupings
    cases = Cases(people, profile("fca"))
    unmapped = cases.make("follow_up", factories.product("Broadband"), g["billing"])
    cases.date(unmapped, date(2026, 2, 2), date(2026, 2, 3))
    fine = cases.make("follow_up", g["card"], g["billing"])
    cases.date(fine, date(2026, 2, 2), date(2026, 2, 3), outcome="upheld")
    fca = RegulatoryProfile.objects.get(code="fca")

    problems = returns.fca_problems(fca, returns.period_of(fca, *H1_2026))

    assert [(p.reference, p.url, p.missing) for p in problems] == [
        (
            unmapped.reference,
            reverse("complaints:detail", args=[unmapped.pk]),
            [
                "the product's FCA grouping",
                "an FCA outcome (upheld, partly upheld, not upheld)",
            ],
        )
    ]


@pytest.fixture
def asic_groupings():
    card, billing = factories.product("Credit card"), factories.category("Billing error")
    map_to("asic", "product", "PRD-CC", "Credit: credit card", product=card)
    map_to("asic", "cause", "ISS-TRANS", "Transactions", category=billing)
    return card, billing


def test_the_asic_idr_report_rows(people, asic_groupings, settings):
    settings.FIRM_NAME = "Demo Bank"
    card, billing = asic_groupings
    cases = Cases(people, profile("asic"))
    carried = cases.with_money(card, billing, "refund", Decimal("80.00"))
    cases.date(carried, date(2025, 12, 28), date(2026, 1, 9), outcome="asic_monetary")
    services.complaint_update(
        carried,
        actor=people[2],
        changes={
            "complainant_gender": "female",
            "complainant_age_band": "35_44",
            "represented": True,
            "representative_name": "Financial counsellor",
        },
    )
    Complaint.objects.filter(pk=carried.pk).update(customer_postcode="2000")
    still_open = cases.make("investigating", card, billing, channel="email")
    cases.date(still_open, date(2026, 6, 29))
    closed_before = cases.make("follow_up", card, billing)
    cases.date(closed_before, date(2025, 11, 1), date(2025, 12, 1), outcome="asic_apology")
    asic = RegulatoryProfile.objects.get(code="asic")

    records = returns.asic_records(asic, returns.period_of(asic, *H1_2026))

    assert [record["row"] for record in records] == [
        [
            carried.reference,
            "Demo Bank",
            "female",
            "35_44",
            "2000",
            "Phone",
            date(2025, 12, 28),
            "Closed",
            date(2026, 1, 9),
            12,
            "Yes",
            "PRD-CC",
            "ISS-TRANS",
            "asic_monetary",
            Decimal("80.00"),
        ],
        [
            still_open.reference,
            "Demo Bank",
            "",
            "",
            "",
            "Email",
            date(2026, 6, 29),
            "Open",
            "",
            "",
            "No",
            "PRD-CC",
            "ISS-TRANS",
            "",
            "",
        ],
    ]
    assert returns.asic_summary(records) == {
        "complaints": 2,
        "open": 1,
        "closed": 1,
        "by_outcome": [["Monetary remedy (refund, compensation, fee or debt waived)", 1]],
        "monetary_remedy": "80.00",
    }
    assert [len(record["row"]) for record in records] == [len(returns.ASIC_COLUMNS)] * 2


CFPB_ROWS = [
    [
        "2026-02-03",
        "Credit card",
        "General-purpose credit card or charge card",
        "Problem with a purchase shown on your statement",
        "Credit card company isn't resolving a dispute about a purchase on your statement",
        'I was charged twice, and "nobody" helped.\nPlease fix it.',
        "",
        "Big Bank",
        "CA",
        "94105",
        "",
        "",
        "Web",
        "2026-02-04",
        "Closed with monetary relief",
        "Yes",
        "No",
        "9000001",
    ],
    [
        "2026-03-10",
        "Mortgage",
        "Conventional home mortgage",
        "Trouble during payment process",
        "",
        # A narrative a spreadsheet would run as a formula: defused in the export, read back.
        '=HYPERLINK("http://attacker.example/","Open")',
        "",
        "Home Loans Inc",
        "NY",
        "100XX",
        "",
        "",
        "Phone",
        "2026-03-10",
        "Closed with explanation",
        "No",
        "Yes",
        "9000002",
    ],
    [
        "2026-04-15",
        "Checking or savings account",
        "",
        "Managing an account",
        "Deposits and withdrawals",
        "",
        "",
        "Big Bank",
        "TX",
        "",
        "",
        "",
        "Postal mail",
        "2026-04-20",
        "In progress",
        "Yes",
        "",
        "9000003",
    ],
    [
        "2026-05-20",
        "Debt collection",
        "I do not know",
        "Attempts to collect debt not owed",
        "Debt is not yours",
        "Not my debt.",
        "",
        "Collectors LLC",
        "",
        "",
        "",
        "",
        "Email",
        "2026-05-21",
        "Closed with non-monetary relief",
        "Yes",
        "",
        "9000004",
    ],
]
COMPARED = (
    "external_reference",
    "customer_name",
    "customer_region",
    "customer_postcode",
    "business_unit",
    "description",
    "interaction_details",
    "channel",
    "outcome",
    "date_of_complaint",
    "stage",
    "received_at",
    "acknowledged_at",
    "acknowledgment_due_at",
    "resolution_target_date",
    "resolved_at",
    "closed_at",
    "resolution_overdue_at",
    "product__name",
    "product__parent__name",
    "category__name",
    "category__parent__name",
    "profile__code",
)


def complaints_as_imported():
    return {
        row["external_reference"]: row
        for row in Complaint.objects.values(*COMPARED, "resolutions__type", "feedback__resolved")
    }


def exported(kind_profile):
    period = returns.period_of(kind_profile, *H1_2026)
    contents = returns.return_contents(kind_profile, period)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(contents.columns)
    # As the download writes them (reports.views.return_csv).
    writer.writerows([spreadsheet_safe(value) for value in row] for row in contents.rows)
    return out.getvalue()


def test_the_cfpb_export_reads_back_through_our_import_identically(tmp_path, manager):
    source = io.StringIO()
    csv.writer(source).writerows([CFPB_COLUMNS, *CFPB_ROWS])
    path = tmp_path / "cfpb.csv"
    path.write_text(source.getvalue(), encoding="utf-8")
    assert import_cfpb(str(path)).created == 4
    cfpb = RegulatoryProfile.objects.get(code="cfpb")
    before = complaints_as_imported()
    assert before["CFPB-9000001"]["outcome"] == "closed_with_monetary_relief"
    first_export = exported(cfpb)
    assert "'=HYPERLINK(" in first_export

    # An empty database: no complaint, and none of the products and issues the file made.
    Complaint.objects.all().delete()
    for model in (Product, Category):
        model.objects.filter(parent__isnull=False).delete()
        model.objects.all().delete()
    again = tmp_path / "exported.csv"
    again.write_text(first_export, encoding="utf-8")
    assert import_cfpb(str(again)).created == 4

    assert complaints_as_imported() == before
    assert exported(cfpb) == first_export


def test_a_manager_produces_each_return_and_it_is_recorded(client, people, fca_groupings):
    csr, _, manager = people
    cases = Cases(people, profile("fca"))
    done = cases.make("follow_up", fca_groupings["card"], fca_groupings["billing"])
    cases.date(done, date(2026, 2, 2), date(2026, 2, 3), outcome="upheld")
    client.force_login(manager)
    page = client.get(reverse("reports:returns"))
    assert page.status_code == 200
    assert page.context["form"].initial["first_day"] <= date(2026, 7, 1)

    fca = RegulatoryProfile.objects.get(code="fca")
    response = client.post(
        reverse("reports:return-produce"),
        {"profile": fca.pk, "first_day": "2026-01-01", "last_day": "2026-06-30"},
        follow=True,
    )
    run = ReturnRun.objects.get()
    assert response.redirect_chain == [(reverse("reports:return", args=[run.pk]), 302)]
    assert (run.kind, run.produced_by, run.records, run.problems) == ("fca", manager, 1, 0)
    html = response.content.decode()
    assert "Banking and credit cards" in html and "Every record has what the return" in html

    download = client.get(reverse("reports:return-csv", args=[run.pk]))
    rows = list(csv.reader(io.StringIO(download.content.decode())))
    assert rows[0] == list(returns.FCA_CSV_COLUMNS)
    assert rows[1] == [
        "Banking and credit cards",
        "Terms and disputed sums/charges",
        "1",
        "1",
        "1",
        "0",
        "0",
        "1",
        "",
    ]

    for code in ("asic", "cfpb"):
        client.post(
            reverse("reports:return-produce"),
            {"profile": profile(code).pk, "first_day": "2026-01-01", "last_day": "2026-06-30"},
        )
    assert sorted(ReturnRun.objects.values_list("kind", flat=True)) == ["asic", "cfpb", "fca"]
    for run in ReturnRun.objects.all():
        assert client.get(reverse("reports:return", args=[run.pk])).status_code == 200
        assert client.get(reverse("reports:return-csv", args=[run.pk])).status_code == 200


def test_a_period_not_yet_started_or_back_to_front_is_refused_and_nothing_is_recorded(
    client, manager
):
    client.force_login(manager)
    for first, last, why in (
        ("2099-01-01", "2099-06-30", "has not started yet"),
        ("2026-06-30", "2026-01-01", "ends before it starts"),
    ):
        response = client.post(
            reverse("reports:return-produce"),
            {"profile": profile("fca").pk, "first_day": first, "last_day": last},
            follow=True,
        )
        assert why in response.content.decode()
    assert not ReturnRun.objects.exists()


def test_this_half_year_so_far_is_offered_and_marked_provisional(client, manager):
    client.force_login(manager)
    page = client.get(reverse("reports:returns"), {"half": "current"})
    first = page.context["form"].initial["first_day"]
    assert first <= date.today() and first.day == 1 and first.month in (1, 7)
    response = client.post(
        reverse("reports:return-produce"),
        {"profile": profile("fca").pk, "first_day": first, "last_day": date.today()},
        follow=True,
    )
    assert "Provisional" in response.content.decode()


@pytest.mark.parametrize("who", ["csr", "resolver", "outsider"])
def test_only_managers_see_and_produce_returns(client, request, who, manager):
    fca = profile("fca")
    run = services_run = None
    from reports import services as report_services

    services_run = report_services.return_produce(
        fca, date(2026, 1, 1), date(2026, 6, 30), actor=manager
    )
    run = services_run
    user = request.getfixturevalue(who)
    client.force_login(user)
    for url in (
        reverse("reports:returns"),
        reverse("reports:return", args=[run.pk]),
        reverse("reports:return-csv", args=[run.pk]),
        reverse("reports:return-xlsx", args=[run.pk]),
    ):
        assert client.get(url).status_code in (302, 403, 404)
    response = client.post(
        reverse("reports:return-produce"),
        {"profile": fca.pk, "first_day": "2026-01-01", "last_day": "2026-06-30"},
    )
    assert response.status_code in (302, 403, 404)
    assert ReturnRun.objects.count() == 1
    from complaints.workflow import Refused

    with pytest.raises(Refused):
        report_services.return_produce(fca, date(2026, 1, 1), date(2026, 6, 30), actor=user)


def test_root_causes_map_before_issues(people, fca_groupings):
    cause = RootCause.objects.create(name="System error")
    map_to("fca", "cause", "arrears", "Arrears related", root_cause=cause)
    groupings = returns.Groupings("fca")
    assert groupings.cause(cause.pk, fca_groupings["billing"].pk) == ("arrears", "Arrears related")
    assert groupings.cause(None, fca_groupings["billing"].pk)[0] == "terms"
    assert groupings.product(None, fca_groupings["billing"].pk) is None


# XLSX ---------------------------------------------------------------------------------


def sheet_rows(content):
    sheet = openpyxl.load_workbook(io.BytesIO(content)).active
    return [list(row) for row in sheet.iter_rows()]


def as_in_the_csv(cell, text):
    """Whether an XLSX cell holds what the CSV's text says: the same number, the same day,
    the same text (the CSV's defused formula-like text without its apostrophe)."""
    value = cell.value
    if value is None:
        return text == ""
    if cell.data_type == "n":
        return Decimal(str(value)) == Decimal(text)
    if cell.is_date:
        return value.date().isoformat() == text
    return cell.data_type == "s" and value == spreadsheet_value(text)


def test_each_return_downloads_as_xlsx_with_the_csvs_rows_typed(
    client, people, fca_groupings, asic_groupings, tmp_path
):
    _, _, manager = people
    g = fca_groupings
    fca_case = Cases(people, profile("fca"))
    refund = fca_case.with_money(g["card"], g["billing"], "refund", Decimal("50.00"))
    fca_case.date(refund, date(2026, 2, 2), date(2026, 2, 3), outcome="upheld")
    card, billing = asic_groupings
    asic_case = Cases(people, profile("asic"))
    paid = asic_case.with_money(card, billing, "compensation", Decimal("80.50"))
    asic_case.date(paid, date(2026, 3, 2), date(2026, 3, 20), outcome="asic_monetary")
    asic_case.date(asic_case.make("investigating", card, billing), date(2026, 6, 29))
    source = io.StringIO()
    csv.writer(source).writerows([CFPB_COLUMNS, *CFPB_ROWS])
    path = tmp_path / "cfpb.csv"
    path.write_text(source.getvalue(), encoding="utf-8")
    assert import_cfpb(str(path)).created == 4
    client.force_login(manager)

    kinds = {}
    for code in ("fca", "asic", "cfpb"):
        client.post(
            reverse("reports:return-produce"),
            {"profile": profile(code).pk, "first_day": "2026-01-01", "last_day": "2026-06-30"},
        )
        run = ReturnRun.objects.get(profile__code=code)
        csv_rows = list(
            csv.reader(io.StringIO(client.get(reverse("reports:return-csv", args=[run.pk])).text))
        )
        response = client.get(reverse("reports:return-xlsx", args=[run.pk]))
        assert response["Content-Type"].startswith("application/vnd.openxmlformats")
        assert response["Content-Disposition"].endswith(f'{run.first_day}-{run.last_day}.xlsx"')
        rows = sheet_rows(response.content)
        assert [cell.value for cell in rows[0]] == csv_rows[0]
        assert len(rows) == len(csv_rows) > 1, code
        for cells, texts in zip(rows, csv_rows, strict=True):
            assert len(cells) == len(texts)
            for cell, text in zip(cells, texts, strict=True):
                assert as_in_the_csv(cell, text), (code, cell.coordinate, cell.value, text)
        kinds[code] = rows

    fca_row = kinds["fca"][1]
    assert [cell.data_type for cell in fca_row[2:8]] == ["n"] * 6
    assert fca_row[8].value == "GBP 50.00"
    closed, still_open = kinds["asic"][1], kinds["asic"][2]
    assert (closed[6].value, closed[8].value) == (datetime(2026, 3, 2), datetime(2026, 3, 20))
    assert closed[6].is_date and closed[8].is_date
    assert (closed[9].value, closed[14].value) == (18, 80.5)
    assert still_open[8].value is None and still_open[14].value is None
    narrative = kinds["cfpb"][2][5]
    assert narrative.value == '=HYPERLINK("http://attacker.example/","Open")'
    assert narrative.data_type == "s"
    assert kinds["cfpb"][1][0].is_date and kinds["cfpb"][1][17].data_type == "s"
    exports = SecurityEvent.objects.filter(kind=SecurityEventKind.DATA_EXPORTED, actor=manager)
    assert sorted(name.rsplit(".", 1)[1] for name in exports.values_list("detail", flat=True)) == [
        "csv",
        "csv",
        "csv",
        "xlsx",
        "xlsx",
        "xlsx",
    ]


def test_xlsx_text_that_looks_like_a_formula_stays_a_string():
    risky = ["=cmd|' /C calc'!A0", "+1+1", "-2+3", "@SUM(A1)", "=1+1", "#N/A", "plain"]
    content = xlsx_workbook(
        "Return", ["Text", "Number", "Day"], [[text, 3, date(2026, 1, 2)] for text in risky]
    )
    rows = sheet_rows(content)
    assert [(row[0].value, row[0].data_type) for row in rows[1:]] == [(t, "s") for t in risky]
    assert all(row[1].data_type == "n" and row[2].is_date for row in rows[1:])
    # The raw file holds no formula at all, only inline strings.
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        sheet_xml = archive.read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in sheet_xml and "cmd|" in sheet_xml


def test_xlsx_drops_control_characters_xml_cannot_carry():
    rows = sheet_rows(xlsx_workbook("Return", ["Text"], [["bell\x07 and tab\tkept"]]))
    assert rows[1][0].value == "bell and tab\tkept"


def test_a_return_too_long_for_one_sheet_is_refused_with_the_csv_offered():
    with pytest.raises(TooManyRows, match="download the CSV"):
        xlsx_workbook("Return", ["Reference"], [["CMP-1"]] * XLSX_MAX_ROWS)
