"""What the demo is made of: its people, managed lists and complaints.

`manage.py seed_demo` writes them; the benchmark can reuse the lists, so both show the same
categories and products. The real CFPB sample the demo also loads is in demo_data/ (with its
provenance), found through settings.DEMO_CFPB_PATH.
"""

from decimal import Decimal
from typing import NamedTuple

from accounts.roles import Role

USERS = [
    ("csr", "Casey", "Reed", Role.CSR),
    ("csr2", "Sam", "Okafor", Role.CSR),
    ("resolver", "Rita", "Vance", Role.RESOLVER),
    ("manager", "Morgan", "Hale", Role.MANAGER),
    # A second manager: an erasure needs one to request it and another to approve it.
    ("manager2", "Jordan", "Price", Role.MANAGER),
]
SUPERUSER = ("admin", "Ada", "Admin")
CATEGORIES = [
    "Billing error",
    "Fees and charges",
    "Service outage",
    "Staff conduct",
    "Delay in service",
    "Account access",
    "Product fault",
    "Communication",
]
PRODUCTS = [
    "Current account",
    "Credit card",
    "Mortgage",
    "Personal loan",
    "Broadband",
    "Energy supply",
    "Superannuation",
]
ROOT_CAUSES = [
    "Process not followed",
    "System error",
    "Unclear communication",
    "Third-party failure",
    "Policy gap",
    "Training need",
    "No fault found",
]

# Our lists as the regulators group them (complaints/models/returns.py), for the returns:
# (scheme, dimension, "product" | "category" | "root_cause", our name, their code, their label).
# The FCA's product groupings and causes are those of its complaints return (DISP 1 Annex
# 1R); ASIC's are the IDR data dictionary's product and issue codes, as we read them.
_FCA_CAUSE_BY_ISSUE = {
    "Billing error": ("terms_disputed_sums", "Terms and disputed sums/charges"),
    "Fees and charges": ("terms_disputed_sums", "Terms and disputed sums/charges"),
    "Service outage": ("admin_customer_service", "General admin/customer service"),
    "Staff conduct": ("admin_customer_service", "General admin/customer service"),
    "Delay in service": ("admin_customer_service", "General admin/customer service"),
    "Account access": ("admin_customer_service", "General admin/customer service"),
    "Product fault": ("other", "Other"),
    "Communication": ("admin_customer_service", "General admin/customer service"),
}
_ASIC_ISSUE_BY_ISSUE = {
    "Billing error": ("ISS-TRANS", "Transactions: incorrect or disputed"),
    "Fees and charges": ("ISS-FEES", "Charges: fees, interest or premiums"),
    "Service outage": ("ISS-SERV", "Service: availability or delay"),
    "Staff conduct": ("ISS-SERV", "Service: availability or delay"),
    "Delay in service": ("ISS-SERV", "Service: availability or delay"),
    "Account access": ("ISS-SERV", "Service: availability or delay"),
    "Product fault": ("ISS-PROD", "Product: performance or terms"),
    "Communication": ("ISS-COMM", "Communication: information or disclosure"),
}
_FCA_GROUPING_BY_PRODUCT = {
    "Current account": ("banking_credit_cards", "Banking and credit cards"),
    "Credit card": ("banking_credit_cards", "Banking and credit cards"),
    "Personal loan": ("banking_credit_cards", "Banking and credit cards"),
    "Mortgage": ("home_finance", "Home finance"),
    "Broadband": ("not_regulated", "Not a regulated product"),
    "Energy supply": ("not_regulated", "Not a regulated product"),
    "Superannuation": ("decumulation_pensions", "Decumulation and pensions"),
}
_ASIC_PRODUCT_BY_PRODUCT = {
    "Current account": ("PRD-DEP", "Deposit taking: transaction account"),
    "Credit card": ("PRD-CC", "Credit: credit card"),
    "Personal loan": ("PRD-PL", "Credit: personal loan"),
    "Mortgage": ("PRD-HL", "Credit: home loan"),
    "Broadband": ("PRD-NA", "Not a financial product"),
    "Energy supply": ("PRD-NA", "Not a financial product"),
    "Superannuation": ("PRD-SUPER", "Superannuation"),
}
RETURN_GROUPINGS = [
    *(
        ("fca", "product", "product", name, *group)
        for name, group in _FCA_GROUPING_BY_PRODUCT.items()
    ),
    *(("fca", "cause", "category", issue, *cause) for issue, cause in _FCA_CAUSE_BY_ISSUE.items()),
    *(
        ("asic", "product", "product", name, *code)
        for name, code in _ASIC_PRODUCT_BY_PRODUCT.items()
    ),
    *(("asic", "cause", "category", issue, *code) for issue, code in _ASIC_ISSUE_BY_ISSUE.items()),
]

# The response templates a fresh install starts with (name, language, subject, body), each in
# English and Spanish; managers keep them in the admin. Placeholders: complaints/placeholders.py.
RESPONSE_TEMPLATES = [
    (
        "Asking for more information",
        "en",
        "We need a little more information about your complaint",
        "Dear {{ customer_name }},\n\nThank you for your complaint of {{ date_of_complaint }}. "
        "To look into it properly we need a little more information from you:\n\n- \n\n"
        "You can reply to this email, or send us documents through your link below.\n\n"
        "{{ staff_name }}",
    ),
    (
        "Progress update",
        "en",
        "An update on your complaint {{ reference }}",
        "Dear {{ customer_name }},\n\nI wanted to let you know where we are with your "
        "complaint. \n\nWe still aim to give you our answer by {{ resolution_target_date }}."
        "\n\n{{ staff_name }}",
    ),
    (
        "Confirming the resolution",
        "en",
        "Your complaint {{ reference }}: what we will do",
        "Dear {{ customer_name }},\n\nFurther to our conversation, this confirms what we "
        "have agreed:\n\n{{ resolution }}\n\nIf anything here is not as you understood it, "
        "please reply to this email and tell us.\n\n{{ staff_name }}",
    ),
    (
        "Did you understand our answer?",
        "en",
        "Checking you have what you need ({{ reference }})",
        "Dear {{ customer_name }},\n\nI am writing to check that our answer to your "
        "complaint was clear, and that you know what happens next. If anything is unclear, "
        "reply to this email and I will explain.\n\n{{ staff_name }}",
    ),
    (
        "Pedir más información",
        "es",
        "Necesitamos algo más de información sobre su reclamación",
        "Estimado/a {{ customer_name }}:\n\nGracias por su reclamación del "
        "{{ date_of_complaint }}. Para investigarla como es debido necesitamos algo más de "
        "información:\n\n- \n\nPuede responder a este correo o enviarnos documentos con su "
        "enlace, más abajo.\n\n{{ staff_name }}",
    ),
    (
        "Novedades",
        "es",
        "Novedades sobre su reclamación {{ reference }}",
        "Estimado/a {{ customer_name }}:\n\nLe escribo para contarle en qué punto está su "
        "reclamación. \n\nSeguimos esperando darle nuestra respuesta a más tardar el "
        "{{ resolution_target_date }}.\n\n{{ staff_name }}",
    ),
    (
        "Confirmar la solución",
        "es",
        "Su reclamación {{ reference }}: lo que haremos",
        "Estimado/a {{ customer_name }}:\n\nTras nuestra conversación, le confirmo lo que "
        "hemos acordado:\n\n{{ resolution }}\n\nSi algo no es como usted lo entendió, "
        "responda a este correo y díganoslo.\n\n{{ staff_name }}",
    ),
    (
        "¿Entendió nuestra respuesta?",
        "es",
        "Comprobamos que tiene lo que necesita ({{ reference }})",
        "Estimado/a {{ customer_name }}:\n\nLe escribo para comprobar que nuestra respuesta "
        "a su reclamación fue clara y que sabe qué ocurre ahora. Si algo no está claro, "
        "responda a este correo y se lo explicaré.\n\n{{ staff_name }}",
    ),
]


class DemoResolution(NamedTuple):
    type: str
    amount: Decimal | None
    description: str
    root_cause: str
    implementation: str
    # In the terms of the case's regulator (complaints/outcomes.py), recorded before Documented.
    outcome: str = "upheld"


class DemoComplaint(NamedTuple):
    """One demo case and how far it has got. `story` is a stage (an exit among them), or one
    of the ways a case waits for someone: escalated to the team, escalated to the managers,
    awaiting approval.
    A case received more than a day ago and still unacknowledged is escalated by the
    acknowledgment clock; one past its resolution target by the target clock."""

    reference: str
    customer: str
    email: str
    phone: str
    channel: str
    category: str
    product: str
    description: str
    hours_ago: float
    story: str
    escalation_reason: str = ""
    resolution: DemoResolution | None = None
    # The exits: the customer's words, the reason, or the demo reference it duplicates.
    exit_text: str = ""
    # Flags it is logged with: ((kind, why), ...).
    flags: tuple = ()
    # Where the customer lives (blank: the firm's country), which with the product chooses
    # the regulatory profile.
    country: str = ""
    # A case of the last half-year that has ended, so that each profile's return for the
    # Returns page's default period has figures: (the day of the half-year it was received,
    # counted from 0; the days it took to answer). Its story is told at those moments, and
    # `hours_ago` is not read.
    last_half_year: tuple = ()


# The regulators' profiles the demo firm answers to (docs/clocks.md), switched on with the
# products each covers; broadband and energy stay on the house rules.
PROFILES = {
    "fca": ["Credit card", "Mortgage"],
    "fca-payments": ["Current account"],
    "asic": [],
    "asic-super": ["Superannuation"],
    "cfpb": [],
}

REFUND_45 = DemoResolution(
    "refund",
    Decimal("45.00"),
    "We will refund the £45 charged in error and add a note to your account so it cannot "
    "happen again.",
    "System error",
    "Refund of £45 issued to the customer's account.",
)

COMPLAINTS = [
    DemoComplaint(
        "DEMO-001",
        "Priya Shah",
        "priya.shah@example.com",
        "",
        "email",
        "Billing error",
        "Credit card",
        "I was charged twice for the same purchase on 3 November and nobody has explained why.",
        2,
        "received",
    ),
    DemoComplaint(
        "DEMO-002",
        "Tom Becker",
        "",
        "+44 7700 900123",
        "phone",
        "Service outage",
        "Broadband",
        "My broadband has dropped every evening for a week and I work from home.",
        20,
        "received",
    ),
    DemoComplaint(
        "DEMO-003",
        "Grace Liu",
        "grace.liu@example.com",
        "",
        "web",
        "Fees and charges",
        "Current account",
        "An overdraft fee was applied although I had arranged an overdraft in advance.",
        30,
        "acknowledged",
    ),
    DemoComplaint(
        "DEMO-004",
        "Jamal Idris",
        "jamal.idris@example.com",
        "+44 7700 900456",
        "letter",
        "Delay in service",
        "Mortgage",
        "My remortgage application has been waiting for six weeks without any update.",
        72,
        "investigating",
        "Needs an investigator.",
    ),
    DemoComplaint(
        "DEMO-005",
        "Elena Rossi",
        "elena.rossi@example.com",
        "",
        "email",
        "Product fault",
        "Energy supply",
        "The smart meter you installed shows readings three times higher than my usage.",
        120,
        "resolved",
        "Needs an investigator.",
        REFUND_45,
    ),
    DemoComplaint(
        "DEMO-006",
        "Owen Price",
        "owen.price@example.com",
        "",
        "in_person",
        "Staff conduct",
        "Personal loan",
        "The adviser at the branch was dismissive and refused to explain the loan terms.",
        300,
        "follow_up",
        "Needs an investigator.",
        REFUND_45,
    ),
    # The intake queue: nobody owns these yet. Those without an email address wait for a CSR
    # to acknowledge them by phone or letter, so the older ones meet the acknowledgment clock.
    DemoComplaint(
        "DEMO-007",
        "Aisha Karim",
        "aisha.karim@example.com",
        "",
        "web",
        "Account access",
        "Current account",
        "I have been locked out of online banking since this morning's app update and my rent "
        "is due tomorrow.",
        1,
        "received",
    ),
    DemoComplaint(
        "DEMO-008",
        "Daniel Murphy",
        "",
        "+44 7700 900321",
        "phone",
        "Fees and charges",
        "Credit card",
        "A late payment fee was added although my direct debit left my account on the due date.",
        5,
        "received",
    ),
    DemoComplaint(
        "DEMO-009",
        "Sofia Andersson",
        "",
        "+44 7700 900654",
        "phone",
        "Communication",
        "Energy supply",
        "I have written three times about my final bill since moving house and had no reply.",
        9,
        "received",
    ),
    DemoComplaint(
        "DEMO-010",
        "Lewis Grant",
        "",
        "+44 7700 900789",
        "social_media",
        "Service outage",
        "Broadband",
        "No internet for two days, and the status page says there is no fault in my area.",
        15,
        "received",
    ),
    DemoComplaint(
        "DEMO-011",
        "Margaret Evans",
        "",
        "+44 7700 900234",
        "letter",
        "Delay in service",
        "Mortgage",
        "I asked for a redemption statement a month ago and the sale of my house now depends "
        "on it.",
        19,
        "received",
    ),
    DemoComplaint(
        "DEMO-012",
        "Hassan Ali",
        "",
        "+44 7700 900567",
        "phone",
        "Billing error",
        "Energy supply",
        "My direct debit doubled without any notice and left me short for the month.",
        30,
        "received",
    ),
    DemoComplaint(
        "DEMO-013",
        "Chloe Bennett",
        "",
        "+44 7700 900890",
        "in_person",
        "Product fault",
        "Broadband",
        "The replacement router you sent does not power on, and it is the second one.",
        50,
        "received",
        flags=(
            (
                "vulnerable",
                "Lives alone; her telecare alarm runs over the broadband. Call, do not write.",
            ),
        ),
    ),
    # The resolution team's queue: escalated to the team, still with the CSR who took them.
    DemoComplaint(
        "DEMO-014",
        "Nadia Petrova",
        "nadia.petrova@example.com",
        "",
        "email",
        "Billing error",
        "Current account",
        "My standing order was paid twice this month and left me overdrawn.",
        40,
        "escalated_to_team",
        "Two payments from one instruction: needs the payments records.",
    ),
    DemoComplaint(
        "DEMO-015",
        "George Whitfield",
        "",
        "+44 7700 900345",
        "phone",
        "Fees and charges",
        "Mortgage",
        "An early repayment charge was taken although my fixed rate had already ended.",
        60,
        "escalated_to_team",
        "The charge depends on the product terms; needs an investigator.",
        flags=(("hardship", "Two months behind on the mortgage since the charge was taken."),),
    ),
    DemoComplaint(
        "DEMO-016",
        "Fatima Noor",
        "fatima.noor@example.com",
        "",
        "web",
        "Account access",
        "Credit card",
        "My card was blocked twice on holiday although I had told you I was travelling.",
        96,
        "escalated_to_team",
        "Fraud rules involved: for the resolution team.",
    ),
    DemoComplaint(
        "DEMO-017",
        "Peter Kowalski",
        "",
        "+44 7700 900678",
        "in_person",
        "Staff conduct",
        "Current account",
        "A cashier refused to let me pay in cash for my business and was rude about it.",
        26,
        "escalated_to_team",
        "About a named colleague: investigate outside the branch.",
    ),
    # With the resolution team.
    DemoComplaint(
        "DEMO-018",
        "Isabel Moreno",
        "isabel.moreno@example.com",
        "",
        "email",
        "Service outage",
        "Energy supply",
        "My supply was cut off for a whole day by mistake when the meter was exchanged.",
        120,
        "investigating",
        "Supply interruption: needs the field engineers' report.",
    ),
    # Past their resolution target: the target clock escalates them and tells the customer.
    DemoComplaint(
        "DEMO-019",
        "Robert Hughes",
        "robert.hughes@example.com",
        "",
        "email",
        "Delay in service",
        "Personal loan",
        "I asked for a settlement figure for my loan three weeks ago and still have nothing.",
        24 * 21,
        "investigating",
        "Settlement figures come from the lending team.",
    ),
    DemoComplaint(
        "DEMO-020",
        "Olivia Clarke",
        "",
        "+44 7700 900901",
        "phone",
        "Billing error",
        "Broadband",
        "I am still being charged for a package I cancelled within the cooling-off period.",
        24 * 18,
        "investigating",
        "Cancellation records are with the supplier.",
    ),
    # Escalated to the managers by the CSR, who asked the resolution team for a check.
    DemoComplaint(
        "DEMO-021",
        "Ahmed Rahman",
        "ahmed.rahman@example.com",
        "",
        "email",
        "Communication",
        "Mortgage",
        "Since my wife died you keep writing to her about arrears on our joint mortgage, though "
        "I sent the death certificate twice.",
        80,
        "escalated_to_managers",
        "Bereaved customer who says he will go to the Ombudsman.",
    ),
    DemoComplaint(
        "DEMO-022",
        "Catherine Doyle",
        "catherine.doyle@example.com",
        "",
        "email",
        "Product fault",
        "Energy supply",
        "The engineer who fitted my smart meter damaged the boiler; the repair cost me £780.",
        200,
        "awaiting_approval",
        "Damage claim: needs an investigator.",
        DemoResolution(
            "compensation",
            Decimal("780.00"),
            "We will pay the £780 boiler repair and apologise for the damage our engineer caused.",
            "Third-party failure",
            "£780 paid to the customer's bank account.",
        ),
    ),
    DemoComplaint(
        "DEMO-023",
        "Laura Fischer",
        "laura.fischer@example.com",
        "",
        "web",
        "Service outage",
        "Broadband",
        "My line has been down for four days in a row and nobody turned up to the appointment.",
        150,
        "resolved",
        "Missed engineer appointment.",
        DemoResolution(
            "service_adjustment",
            None,
            "We will credit a month's line rental and book a priority engineer visit.",
            "Third-party failure",
            "Credit applied and the engineer visit booked.",
        ),
    ),
    # Closed cases: documented and waiting for a manager's sign-off, and signed off.
    DemoComplaint(
        "DEMO-024",
        "Michael Osei",
        "michael.osei@example.com",
        "",
        "email",
        "Billing error",
        "Credit card",
        "Interest was charged on a balance I paid in full before the statement date.",
        24 * 16,
        "documented",
        "Interest calculation: needs the cards team.",
        DemoResolution(
            "refund",
            Decimal("60.00"),
            "We will refund the £60 of interest and correct your statement.",
            "System error",
            "£60 refunded and the statement reissued.",
        ),
    ),
    DemoComplaint(
        "DEMO-025",
        "Hannah Wright",
        "hannah.wright@example.com",
        "",
        "email",
        "Fees and charges",
        "Current account",
        "I was charged an arranged overdraft fee in a month I never went overdrawn.",
        24 * 25,
        "reviewed",
        "Fee rule query.",
        DemoResolution(
            "refund",
            Decimal("25.00"),
            "We will refund the £25 fee; it was applied by a rule that ignored your balance.",
            "Process not followed",
            "£25 refunded to the customer's current account.",
        ),
    ),
    DemoComplaint(
        "DEMO-026",
        "Samuel Adeyemi",
        "samuel.adeyemi@example.com",
        "+44 7700 900432",
        "phone",
        "Communication",
        "Broadband",
        "I was promised a call back about my contract three times and it never came.",
        24 * 22,
        "reviewed",
        "Repeated failed call-backs.",
        DemoResolution(
            "apology",
            None,
            "We apologise: the call-backs were booked to a closed team. Your contract questions "
            "are answered in the letter attached.",
            "Training need",
            "Apology letter sent and the call-back queue corrected.",
            "partly_upheld",
        ),
    ),
    # Closed without a resolution: withdrawn, a duplicate merged into the case it repeats,
    # and an enquiry that was not a complaint.
    DemoComplaint(
        "DEMO-027",
        "George Bennett",
        "george.bennett@example.com",
        "",
        "email",
        "Fees and charges",
        "Current account",
        "You charged me a £15 fee for a payment that bounced, but I had the money in my account.",
        30,
        "withdrawn",
        exit_text="The shop re-sent the payment and my bank fixed it; please close my complaint.",
    ),
    DemoComplaint(
        "DEMO-028",
        "Isabel Moreno",
        "isabel.moreno@example.com",
        "",
        "web",
        "Service outage",
        "Energy supply",
        "Writing again: my power was off all day after the meter exchange. Who pays for the "
        "food in my freezer?",
        20,
        "duplicate",
        exit_text="DEMO-018",
    ),
    DemoComplaint(
        "DEMO-029",
        "Noah Clarke",
        "noah.clarke@example.com",
        "",
        "web",
        "Communication",
        "Mortgage",
        "What are your branch opening hours over the holidays?",
        10,
        "not_a_complaint",
        exit_text="A question about opening hours: answered by the branch team as an enquiry.",
    ),
    # Customers abroad, under the Australian and US regulators' clocks.
    DemoComplaint(
        "DEMO-030",
        "Chloe Nguyen",
        "chloe.nguyen@example.com",
        "",
        "web",
        "Fees and charges",
        "Credit card",
        "An annual fee was charged on a card I closed in Sydney last year.",
        3,
        "received",
        country="AU",
    ),
    DemoComplaint(
        "DEMO-031",
        "Liam O'Brien",
        "liam.obrien@example.com",
        "",
        "phone",
        "Fees and charges",
        "Personal loan",
        "I lost my job and asked for a payment pause; I got a default notice instead.",
        100,
        "investigating",
        "Hardship: needs an investigator.",
        country="AU",
        # Hardship selects ASIC's 21-day response clock.
        flags=(
            ("hardship", "Lost their job; asked for a payment pause and got a default notice."),
        ),
    ),
    DemoComplaint(
        "DEMO-032",
        "Maria Gonzalez",
        "maria.gonzalez@example.com",
        "",
        "web",
        "Billing error",
        "Credit card",
        "A purchase I disputed in March is still on my statement, with interest.",
        30,
        "acknowledged",
        country="US",
    ),
    # Closed cases under the Australian and US regulators, with the outcomes their returns
    # report (complaints/outcomes.py).
    DemoComplaint(
        "DEMO-033",
        "Jack Thompson",
        "jack.thompson@example.com",
        "",
        "email",
        "Fees and charges",
        "Credit card",
        "A late payment fee was charged although my payment left my bank on the due date.",
        24 * 12,
        "reviewed",
        "Payment timing query.",
        DemoResolution(
            "refund",
            Decimal("35.00"),
            "We will refund the late payment fee: your payment was on time.",
            "System error",
            "Late fee refunded.",
            "asic_monetary",
        ),
        country="AU",
    ),
    DemoComplaint(
        "DEMO-034",
        "Olivia Chen",
        "olivia.chen@example.com",
        "",
        "phone",
        "Communication",
        "Personal loan",
        "Nobody told me my repayment amount would change after the rate rise.",
        24 * 9,
        "documented",
        "Rate change letters.",
        DemoResolution(
            "apology",
            None,
            "We apologise: the letter went to an old address. The new amount is explained "
            "in the enclosed schedule.",
            "Unclear communication",
            "Apology and repayment schedule sent.",
            "asic_apology",
        ),
        country="AU",
    ),
    DemoComplaint(
        "DEMO-035",
        "Ethan Brooks",
        "ethan.brooks@example.com",
        "",
        "web",
        "Billing error",
        "Credit card",
        "I was billed twice for the same hotel booking and the dispute was closed without a reply.",
        24 * 14,
        "reviewed",
        "Duplicate charge dispute.",
        DemoResolution(
            "refund",
            Decimal("212.40"),
            "We will refund the duplicate charge of $212.40 and the interest on it.",
            "Process not followed",
            "Duplicate charge and interest refunded.",
            "closed_with_monetary_relief",
        ),
        country="US",
    ),
    DemoComplaint(
        "DEMO-036",
        "Sophia Rivera",
        "sophia.rivera@example.com",
        "",
        "email",
        "Fees and charges",
        "Mortgage",
        "My escrow payment went up and I do not understand why.",
        24 * 8,
        "documented",
        "Escrow analysis question.",
        DemoResolution(
            "apology",
            None,
            "The escrow payment rose with your property tax bill; the enclosed analysis shows "
            "each figure. No error was made.",
            "No fault found",
            "Escrow analysis explained by letter.",
            "closed_with_explanation",
        ),
        country="US",
    ),
    # The last half-year that has ended: a case received and answered in it under each
    # profile, so each return the Returns page offers first has figures (and the FCA ones
    # each time band).
    DemoComplaint(
        "DEMO-037",
        "Harriet Cole",
        "harriet.cole@example.com",
        "",
        "phone",
        "Service outage",
        "Broadband",
        "My broadband was down for two days and the helpline kept me on hold for an hour.",
        0,
        "reviewed",
        "Outage credit.",
        DemoResolution(
            "apology",
            None,
            "We apologise: a faulty line card cut your street off. It was replaced; the two "
            "days are credited on your next bill.",
            "Third-party failure",
            "Apology sent and the outage days credited.",
            "upheld",
        ),
        last_half_year=(15, 1),
    ),
    DemoComplaint(
        "DEMO-038",
        "Peter Walsh",
        "peter.walsh@example.com",
        "",
        "letter",
        "Billing error",
        "Energy supply",
        "Three estimated bills in a row, each higher than the last, although I sent readings.",
        0,
        "reviewed",
        "Estimated bills.",
        DemoResolution(
            "refund",
            Decimal("84.20"),
            "We will refund the £84.20 overcharged on the estimated bills and use your readings "
            "from now on.",
            "Process not followed",
            "Refund issued; the readings are on the account.",
            "upheld",
        ),
        last_half_year=(40, 62),
    ),
    DemoComplaint(
        "DEMO-039",
        "Amara Okoye",
        "amara.okoye@example.com",
        "",
        "web",
        "Billing error",
        "Credit card",
        "A cash advance fee was charged on a card payment to my energy supplier.",
        0,
        "reviewed",
        "Fee coding.",
        DemoResolution(
            "refund",
            Decimal("60.00"),
            "We will refund the £60 fee: the payment was wrongly coded as a cash advance.",
            "System error",
            "Fee refunded and the merchant's code corrected.",
            "upheld",
        ),
        last_half_year=(30, 20),
    ),
    DemoComplaint(
        "DEMO-040",
        "Lewis Grant",
        "lewis.grant@example.com",
        "",
        "email",
        "Fees and charges",
        "Current account",
        "I was charged for an international payment that the app said was free.",
        0,
        "documented",
        "International payment fee.",
        DemoResolution(
            "no_fault",
            None,
            "The fee is in your account's tariff for payments outside Europe; the app's "
            "wording is being made clearer.",
            "Unclear communication",
            "Tariff explained by email.",
            "not_upheld",
        ),
        last_half_year=(60, 10),
    ),
    DemoComplaint(
        "DEMO-041",
        "Mia Robinson",
        "mia.robinson@example.com",
        "",
        "phone",
        "Delay in service",
        "Personal loan",
        "My hardship variation took a month to confirm and a missed payment went on my file.",
        0,
        "reviewed",
        "Hardship variation delay.",
        DemoResolution(
            "corrective_action",
            None,
            "We have asked the credit bureau to remove the missed payment and confirmed your "
            "new repayments in writing.",
            "Process not followed",
            "Credit report corrected; new schedule sent.",
            "asic_non_monetary",
        ),
        country="AU",
        last_half_year=(75, 12),
    ),
    DemoComplaint(
        "DEMO-042",
        "Ruby Harris",
        "ruby.harris@example.com",
        "",
        "email",
        "Communication",
        "Superannuation",
        "My rollover to the new fund took three months and nobody answered my emails.",
        0,
        "reviewed",
        "Rollover delay.",
        DemoResolution(
            "compensation",
            Decimal("150.00"),
            "We apologise for the delay and will pay A$150 for the returns the money missed.",
            "Third-party failure",
            "Compensation of A$150 paid into the new fund.",
            "asic_monetary",
        ),
        country="AU",
        last_half_year=(90, 25),
    ),
    DemoComplaint(
        "DEMO-043",
        "Carlos Mendez",
        "carlos.mendez@example.com",
        "",
        "web",
        "Billing error",
        "Mortgage",
        "My mortgage statement shows a late charge for a payment that was on time.",
        0,
        "reviewed",
        "Late charge dispute.",
        DemoResolution(
            "apology",
            None,
            "The payment arrived on the due date and the late charge was reversed the same "
            "week; the statement you saw was printed before the reversal.",
            "No fault found",
            "Statement explained by letter.",
            "closed_with_explanation",
        ),
        country="US",
        last_half_year=(105, 9),
    ),
]


# The documents the regulators' responses enclose, uploaded by a firm in the admin; the demo
# has stand-ins so a first look can send them. Not the real leaflet: the firm downloads that
# from the scheme's website.
STAND_IN_LINES = [
    "Demo stand-in for {name}.",
    "A firm uploads the real document under Settings, Response enclosures:",
    "download it from www.financial-ombudsman.org.uk.",
]


def stand_in_pdf(lines):
    """A one-page PDF of `lines` (ASCII), built by hand: the demo needs no PDF library."""

    def escaped(line):
        return line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")

    text = " T* ".join(f"({escaped(line)}) Tj" for line in lines)
    content = f"BT /F1 12 Tf 16 TL 56 780 Td {text} ET".encode("ascii")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    pdf = b"%PDF-1.4\n"
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(pdf))
        pdf += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    table = len(pdf)
    pdf += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    pdf += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    pdf += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        table,
    )
    return pdf
