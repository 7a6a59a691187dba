"""The calendars, the regulators' profiles and their clocks a new install starts with
(docs/clocks.md): data that managers then keep in the admin. Seeded by migration 0022, and
again after a flush (tests that empty the database) by the post_migrate handler in apps.py.

The house profile takes its durations from the settings this deployment runs with, so its
clocks are the ones it had before clocks were data.
"""

from django.conf import settings

CALENDARS = [
    # code, name, country, subdivision, time zone
    ("gb-eng", "England and Wales", "GB", "ENG", "Europe/London"),
    ("gb-sct", "Scotland", "GB", "SCT", "Europe/London"),
    ("au-nsw", "New South Wales", "AU", "NSW", "Australia/Sydney"),
    ("au-vic", "Victoria", "AU", "VIC", "Australia/Melbourne"),
    ("au-wa", "Western Australia", "AU", "WA", "Australia/Perth"),
    ("au-qld", "Queensland", "AU", "QLD", "Australia/Brisbane"),
    ("us", "United States (federal)", "US", "", "America/New_York"),
]

ACK_STOPS = ["acknowledged", "exited", "closed"]
RESPONSE_STOPS = ["resolution_proposed", "exited", "closed"]
# A regulator's response clock is met by the checked response sent (its ombudsman wording,
# its leaflet: response_sent_stops below), never by a proposal alone.
REGULATOR_RESPONSE_STOPS = ["exited", "closed"]
PROPOSED = "resolution_proposed"
EARLY_STOPS = ["resolved", "closed"]

# The responses staff send that meet a response clock (docs/responses.md), besides its
# stops above: a final response meets each; a holding response meets the clocks that allow
# one instead (DISP 1.6.2R's eight weeks, DISP 1.6.2AR's 15 business days, the CFPB's 15
# days, after which the company may still be "in progress").
FINAL_SENT, HOLDING_SENT = "final_response_sent", "holding_response_sent"
HOLDING_MEETS = {
    ("fca", "final-response"),
    ("fca-payments", "payment-response"),
    ("cfpb", "company-response"),
}
FINAL_MEETS = {
    ("fca-payments", "payment-final-response"),
    ("asic", "idr-response"),
    ("asic", "idr-response-hardship"),
    ("asic-super", "idr-response"),
    ("cfpb", "final-response"),
}


def response_sent_stops(profile_code, clock_code):
    if (profile_code, clock_code) in HOLDING_MEETS:
        return [FINAL_SENT, HOLDING_SENT]
    if (profile_code, clock_code) in FINAL_MEETS:
        return [FINAL_SENT]
    if profile_code == "house" and clock_code.startswith("resolution-"):
        return [FINAL_SENT]
    return []


FCA_SOURCES = (
    "FCA Handbook, DISP 1.6.1R: a prompt written acknowledgment (no number of days is set: "
    "the firm's 24 hours). DISP 1.6.2R: a final or holding response by eight weeks after "
    "receipt. DISP 1.6.2AR: payment services (PSRs 2017, EMRs 2011): a final response within "
    "15 business days, or in exceptional circumstances a holding response and the final "
    "response within 35 business days. DISP 1.5: a complaint resolved by the close of the "
    "third business day after receipt may close with a summary resolution communication. "
    "https://www.handbook.fca.org.uk/handbook/DISP/1/"
)
ASIC_SOURCES = (
    "ASIC Regulatory Guide 271, Internal dispute resolution (RG 271): acknowledgment within "
    "24 hours or one business day of receipt; an IDR response within 30 calendar days; 21 "
    "calendar days for complaints about default notices and financial hardship; 45 calendar "
    "days for superannuation trustees; a complaint resolved to the complainant's "
    "satisfaction within five business days needs no written IDR response unless asked or "
    "about hardship. https://asic.gov.au/regulatory-resources/find-a-document/"
    "regulatory-guides/rg-271-internal-dispute-resolution/"
)
CFPB_SOURCES = (
    "CFPB complaint process and Company Portal Manual: the company responds within 15 "
    "calendar days; a response marked 'In progress' is followed by a final response within "
    "60 days. The acknowledgment is the firm's own 24 hours (the CFPB sets none). "
    "https://www.consumerfinance.gov/complaint/process/"
)


def clock(code, name, role, amount, unit, stops, **rest):
    return {
        "code": code,
        "name": name,
        "role": role,
        "amount": amount,
        "unit": unit,
        "stop_events": stops,
        **rest,
    }


def firm_acknowledgment():
    return clock(
        "acknowledgment",
        "Acknowledgment deadline",
        "acknowledgment",
        settings.ACKNOWLEDGMENT_HOURS,
        "hours",
        ACK_STOPS,
        warning_amount=settings.ACKNOWLEDGMENT_HOURS - settings.ACKNOWLEDGMENT_WARNING_HOURS,
        warning_unit="hours",
    )


def early(days, name):
    return clock(
        "early-resolution",
        name,
        "early_resolution",
        days,
        "business_days",
        EARLY_STOPS,
        breach_notify="none",
        breach_escalates=False,
    )


def house_clocks():
    clocks = [firm_acknowledgment()]
    for complexity, (amount, unit) in settings.RESOLUTION_TARGETS.items():
        clocks.append(
            clock(
                f"resolution-{complexity}",
                "Resolution target",
                "resolution_target",
                amount,
                unit,
                RESPONSE_STOPS,
                breach_message="delay_notice",
                complexities=[complexity],
            )
        )
    return clocks


def fca_clocks():
    return [
        firm_acknowledgment(),
        clock(
            "final-response",
            "Final or holding response (8 weeks)",
            "final_response",
            56,
            "calendar_days",
            REGULATOR_RESPONSE_STOPS,
            warning_amount=14,
            warning_unit="calendar_days",
            breach_message="delay_notice",
        ),
        early(3, "Summary resolution (3 business days)"),
    ]


def fca_payment_clocks():
    return [
        firm_acknowledgment(),
        clock(
            "payment-response",
            "Final or holding response (15 business days)",
            "holding_response",
            15,
            "business_days",
            REGULATOR_RESPONSE_STOPS,
            warning_amount=5,
            warning_unit="business_days",
            breach_message="delay_notice",
        ),
        clock(
            "payment-final-response",
            "Final response after a holding response (35 business days)",
            "final_response",
            35,
            "business_days",
            REGULATOR_RESPONSE_STOPS,
            warning_amount=5,
            warning_unit="business_days",
        ),
        early(3, "Summary resolution (3 business days)"),
    ]


def asic_acknowledgment():
    return clock(
        "acknowledgment",
        "Acknowledgment (1 business day)",
        "acknowledgment",
        1,
        "business_days",
        ACK_STOPS,
        warning_amount=8,
        warning_unit="hours",
    )


def asic_response(days, **conditions):
    name = f"IDR response ({days} days)"
    code = "idr-response"
    if conditions.get("hardship") == "yes":
        name = f"IDR response, default notice or hardship ({days} days)"
        code = "idr-response-hardship"
    return clock(
        code,
        name,
        "final_response",
        days,
        "calendar_days",
        REGULATOR_RESPONSE_STOPS,
        warning_amount=5,
        warning_unit="calendar_days",
        breach_message="delay_notice",
        **conditions,
    )


def asic_clocks():
    return [
        asic_acknowledgment(),
        asic_response(30, hardship="no"),
        asic_response(21, hardship="yes"),
        early(5, "Quick resolution (5 business days)"),
    ]


def asic_super_clocks():
    return [
        asic_acknowledgment(),
        asic_response(45),
        early(5, "Quick resolution (5 business days)"),
    ]


def cfpb_clocks():
    return [
        firm_acknowledgment(),
        clock(
            "company-response",
            "Company response (15 days)",
            "holding_response",
            15,
            "calendar_days",
            REGULATOR_RESPONSE_STOPS,
            warning_amount=3,
            warning_unit="calendar_days",
        ),
        clock(
            "final-response",
            "Final response (60 days)",
            "final_response",
            60,
            "calendar_days",
            REGULATOR_RESPONSE_STOPS,
            warning_amount=10,
            warning_unit="calendar_days",
            breach_message="delay_notice",
        ),
    ]


# The regulators' profiles start switched off: a firm turns on those it answers to (and gives
# the payment-services and superannuation profiles their products) in the admin.
PROFILES = [
    # code, name, regulator, calendar, country, priority, early days, sources, clocks, products
    ("fca", "FCA (DISP 1)", "Financial Conduct Authority", "gb-eng", "GB", 10, 3,
     FCA_SOURCES, fca_clocks, ()),
    ("fca-payments", "FCA payment services (DISP 1.6.2AR)", "Financial Conduct Authority",
     "gb-eng", "GB", 20, 3, FCA_SOURCES, fca_payment_clocks, ("payment", "current account")),
    ("asic", "ASIC (RG 271)", "Australian Securities and Investments Commission", "au-nsw",
     "AU", 10, 5, ASIC_SOURCES, asic_clocks, ()),
    ("asic-super", "ASIC superannuation (RG 271)",
     "Australian Securities and Investments Commission", "au-nsw", "AU", 20, 5, ASIC_SOURCES,
     asic_super_clocks, ("superannuation",)),
    ("cfpb", "CFPB", "Consumer Financial Protection Bureau", "us", "US", 10, None,
     CFPB_SOURCES, cfpb_clocks, ()),
]  # fmt: skip


def create_definitions(apps, profile, clocks):
    ClockDefinition = apps.get_model("complaints", "ClockDefinition")
    for values in clocks:
        values["stop_events"] = values["stop_events"] + response_sent_stops(
            profile.code, values["code"]
        )
        ClockDefinition.objects.create(profile=profile, start_event="received", **values)


def response_stops_seed(apps, *, remove=False):
    """Give the seeded response clocks of an existing install the responses that meet them
    (or, `remove`, take them away again): migration 0032."""
    ClockDefinition = apps.get_model("complaints", "ClockDefinition")
    for definition in ClockDefinition.objects.select_related("profile"):
        added = response_sent_stops(definition.profile.code, definition.code)
        if remove:
            stops = [e for e in definition.stop_events if e not in added]
        else:
            stops = definition.stop_events + [e for e in added if e not in definition.stop_events]
        if stops != definition.stop_events:
            definition.stop_events = stops
            definition.save(update_fields=["stop_events"])


def regulator_proposal_stops_seed(apps, *, restore=False):
    """Take the proposal of a resolution away from the stops of the seeded regulators'
    response clocks of an existing install (or, `restore`, give it back): migration 0036."""
    ClockDefinition = apps.get_model("complaints", "ClockDefinition")
    seeded = HOLDING_MEETS | FINAL_MEETS
    for definition in ClockDefinition.objects.select_related("profile"):
        if (definition.profile.code, definition.code) not in seeded:
            continue
        if restore:
            if PROPOSED in definition.stop_events:
                continue
            stops = [PROPOSED, *definition.stop_events]
        else:
            stops = [e for e in definition.stop_events if e != PROPOSED]
        if stops != definition.stop_events:
            definition.stop_events = stops
            definition.save(update_fields=["stop_events"])


def seed(apps):
    """Write the catalogue through `apps` (a migration's or the live registry); return the
    house profile."""
    BusinessCalendar = apps.get_model("complaints", "BusinessCalendar")
    RegulatoryProfile = apps.get_model("complaints", "RegulatoryProfile")
    Product = apps.get_model("complaints", "Product")
    house_calendar = BusinessCalendar.objects.create(
        code="house", name="The firm's calendar", time_zone=settings.TIME_ZONE
    )
    calendars = {"house": house_calendar}
    for code, name, country, subdivision, zone in CALENDARS:
        calendars[code] = BusinessCalendar.objects.create(
            code=code, name=name, country=country, subdivision=subdivision, time_zone=zone
        )
    house = RegulatoryProfile.objects.create(
        code="house",
        name="House rules",
        regulator="",
        sources="The firm's own promises: acknowledgment within "
        f"{settings.ACKNOWLEDGMENT_HOURS} hours and a resolution target by complexity.",
        calendar=house_calendar,
        is_default=True,
    )
    create_definitions(apps, house, house_clocks())
    for (
        code,
        name,
        regulator,
        calendar,
        country,
        priority,
        early_days,
        sources,
        clocks,
        products,
    ) in PROFILES:
        profile = RegulatoryProfile.objects.create(
            code=code,
            name=name,
            regulator=regulator,
            sources=sources,
            calendar=calendars[calendar],
            country=country,
            priority=priority,
            early_resolution_business_days=early_days,
            active=False,
        )
        for word in products:
            profile.products.add(*Product.objects.filter(name__icontains=word))
        create_definitions(apps, profile, clocks())
    return house
