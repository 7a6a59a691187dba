"""The required elements and the templates a new install starts with, per seeded profile
(complaints/clocks/catalogue.py), written from the published rules: data that managers then
keep in the admin. Seeded by migration 0032, and again after a flush by the post_migrate
handler in apps.py, like the clocks.

Each template satisfies its profile's elements as written, in English and in Spanish (which
keeps the schemes' proper names, addresses and numbers as they are). The patterns are taken
from the templates' own wording: an element edited out of a template, or out of a reply
before it is sent, is refused.
"""

from django.db.models import Q
from django.utils import timezone

from complaints.responses import Check, Fact, ResponseType

T = ResponseType

# Sources -------------------------------------------------------------------------------------

HOUSE = "The firm's complaints procedure"
RG271 = "ASIC RG 271, IDR response"
RG271_DELAY = "ASIC RG 271, IDR delay notification"
CFPB = "CFPB Company Portal Manual, company response"


def text(code, label, source, patterns):
    return {"code": code, "label": label, "source": source, "kind": Check.TEXT,
            "patterns": "\n".join(patterns)}  # fmt: skip


def enclosure(code, label, source, document):
    return {"code": code, "label": label, "source": source, "kind": Check.ENCLOSURE,
            "enclosure": document}  # fmt: skip


def fact(code, label, source, which):
    return {"code": code, "label": label, "source": source, "kind": Check.FACT, "fact": which}


# Elements shared by several profiles --------------------------------------------------------

FOS_LEAFLET = "fos-leaflet"
ENCLOSURES = {
    # profile: [(code, name)]: the documents a manager uploads (Settings, Response enclosures).
    "fca": [(FOS_LEAFLET, "The Financial Ombudsman Service's consumer leaflet")],
    "fca-payments": [(FOS_LEAFLET, "The Financial Ombudsman Service's consumer leaflet")],
}


def received(source):
    return text(
        "received",
        "an assurance that we received the complaint and are dealing with it",
        source,
        [
            "we have received your complaint | hemos recibido su reclamación",
            "looking into it | estamos estudiándola",
        ],
    )


def outcome(source):
    return fact("outcome", "the outcome, recorded on the case", source, Fact.OUTCOME)


def reasons(source):
    return text(
        "reasons",
        "the reasons for our decision",
        source,
        ["the reasons for our decision | los motivos de nuestra decisión"],
    )


def fos_contact(source):
    return text(
        "ombudsman",
        "the Financial Ombudsman Service's name and contact details",
        source,
        ["Financial Ombudsman Service", "financial-ombudsman.org.uk", "0800 023 4567"],
    )


def fos_leaflet(source):
    return enclosure(
        "leaflet", "the Financial Ombudsman Service's leaflet, enclosed", source, FOS_LEAFLET
    )


def waiver(source):
    return text(
        "waiver",
        "the wording on the time limits: whether we consent to the Ombudsman considering a "
        "late referral",
        source,
        [
            "will not have our permission | we do not object | no tendrá nuestro permiso "
            "| no nos oponemos"
        ],
    )


def six_months(source):
    return text(
        "six-months",
        "that the complainant must refer the complaint to the Ombudsman within six months",
        source,
        ["within six months | en un plazo de seis meses"],
    )


def fca_final():
    return [
        outcome("DISP 1.6.2R(1)(a)-(c)"),
        fact(
            "redress",
            "the redress offered, recorded on the case, when the complaint is upheld",
            "DISP 1.6.2R(1)(a)",
            Fact.REDRESS,
        ),
        reasons("DISP 1.6.2R(1)(c)"),
        fos_contact("DISP 1.6.2R(1)(e)"),
        six_months("DISP 1.6.2R(1)(e)"),
        waiver("DISP 1.6.2R(1)(f), DISP 1 Annex 3R"),
        fos_leaflet("DISP 1.6.2R(1)(d)"),
    ]


def fca_summary_resolution():
    return [
        fact(
            "resolved-early",
            "a complaint resolved by the close of the third business day after it was received",
            "DISP 1.5.1R",
            Fact.RESOLVED_EARLY,
        ),
        text(
            "resolved",
            "that we now consider the complaint resolved",
            "DISP 1.5.4R(1)",
            ["consider your complaint to be resolved | consideramos resuelta su reclamación"],
        ),
        text(
            "may-refer",
            "that the complainant may be able to refer the complaint to the Financial "
            "Ombudsman Service",
            "DISP 1.5.4R(2)",
            [
                "refer your complaint to the Financial Ombudsman Service | remitir su "
                "reclamación al Financial Ombudsman Service"
            ],
        ),
        waiver("DISP 1.5.4R(3), DISP 1 Annex 3R"),
        text(
            "website",
            "the Financial Ombudsman Service's website",
            "DISP 1.5.4R(4)-(5)",
            ["financial-ombudsman.org.uk"],
        ),
    ]


def fca_acknowledgment(time_frame):
    return [
        received("DISP 1.6.1R(1)(a)"),
        text(
            "time-frame",
            "when we will send our response",
            "DISP 1.6.1R(1)(b)",
            [time_frame],
        ),
        text(
            "kept-informed",
            "that we will keep the complainant informed of our progress",
            "DISP 1.6.1R(2)",
            ["keep you informed | le mantendremos informado"],
        ),
    ]


def afca(source):
    return text(
        "afca",
        "the right to take the complaint to the Australian Financial Complaints Authority, "
        "with its contact details",
        source,
        [
            "Australian Financial Complaints Authority",
            "www.afca.org.au",
            "info@afca.org.au",
            "1800 931 678",
            "GPO Box 3",
            "Melbourne VIC 3001",
        ],
    )


def asic_elements():
    return {
        T.ACKNOWLEDGMENT: [received("ASIC RG 271, acknowledging complaints")],
        T.FINAL_RESPONSE: [
            outcome(RG271),
            text(
                "findings",
                "the reasons for the decision, with our findings on the material facts",
                RG271,
                [
                    "our findings | nuestras conclusiones",
                    "the reasons for our decision | los motivos de nuestra decisión",
                ],
            ),
            afca(RG271),
            text(
                "afca-time-limit",
                "the time limit for taking the complaint to AFCA",
                f"{RG271}; AFCA Rules B.4.3",
                ["two years | dos años"],
            ),
        ],
        T.DELAY_NOTICE: [
            text(
                "delay-reasons",
                "the reasons for the delay",
                RG271_DELAY,
                ["the reasons for the delay | los motivos del retraso"],
            ),
            afca(RG271_DELAY),
        ],
    }


def fca_elements(*, payments):
    if payments:
        time_frame = "15 business days | 15 días hábiles"
        holding = [
            text(
                "delay-reasons",
                "the reasons for the delay in answering the complaint",
                "DISP 1.6.2AR(2)",
                ["the reasons for the delay | los motivos del retraso"],
            ),
            text(
                "deadline",
                "the deadline by which the complainant will receive our final response",
                "DISP 1.6.2AR(2)",
                [
                    "you will receive our final response by | recibirá nuestra respuesta final "
                    "a más tardar el",
                    "35 business days | 35 días hábiles",
                ],
            ),
        ]
    else:
        time_frame = "8 weeks | eight weeks | 8 semanas | ocho semanas"
        holding = [
            text(
                "why-not-yet",
                "why we cannot give our final response yet",
                "DISP 1.6.2R(2)(a)",
                [
                    "why we cannot give you our final response yet | por qué todavía no "
                    "podemos darle nuestra respuesta final"
                ],
            ),
            text(
                "when-expected",
                "when we expect to give our final response",
                "DISP 1.6.2R(2)(a)",
                [
                    "we expect to send you our final response | esperamos enviarle nuestra "
                    "respuesta final"
                ],
            ),
            text(
                "may-refer-now",
                "that the complainant may now refer the complaint to the Financial "
                "Ombudsman Service",
                "DISP 1.6.2R(2)(b)",
                [
                    "may now refer your complaint to the Financial Ombudsman Service | puede "
                    "remitir ya su reclamación al Financial Ombudsman Service"
                ],
            ),
            fos_contact("DISP 1.6.2R(2)(b)"),
            fos_leaflet("DISP 1.6.2R(2)(c)"),
        ]
    return {
        T.ACKNOWLEDGMENT: fca_acknowledgment(time_frame),
        T.HOLDING_RESPONSE: holding,
        T.FINAL_RESPONSE: fca_final(),
        T.SUMMARY_RESOLUTION: fca_summary_resolution(),
    }


def elements():
    """{profile code: {response type: [element, ...]}}."""
    return {
        "house": {
            T.ACKNOWLEDGMENT: [received(HOUSE)],
            T.FINAL_RESPONSE: [outcome(HOUSE), reasons(HOUSE)],
        },
        "fca": fca_elements(payments=False),
        "fca-payments": fca_elements(payments=True),
        "asic": asic_elements(),
        "asic-super": asic_elements(),
        "cfpb": {
            T.CFPB_COMPANY_RESPONSE: [
                text(
                    "steps-taken",
                    "the steps we have taken in response to the complaint",
                    CFPB,
                    ["the steps we have taken | las medidas que hemos tomado"],
                ),
                text(
                    "follow-up",
                    "the follow-up actions we plan",
                    CFPB,
                    ["our next steps | nuestros próximos pasos"],
                ),
                fact(
                    "category",
                    "one of the CFPB's response categories, recorded as the case's outcome",
                    CFPB,
                    Fact.OUTCOME,
                ),
            ],
        },
    }


# Templates ----------------------------------------------------------------------------------

SIGN_OFF = "\n\n{{ staff_name }}\n{{ team_name }}"
GREETING = {"en": "Dear {{ customer_name }},\n\n", "es": "Estimado/a {{ customer_name }}:\n\n"}

FOS_ADDRESS = {
    "en": "Financial Ombudsman Service\nExchange Tower, London E14 9SR\nPhone: 0800 023 4567\n"
    "Website: www.financial-ombudsman.org.uk",
    "es": "Financial Ombudsman Service\nExchange Tower, London E14 9SR\nTeléfono: 0800 023 4567\n"
    "Web: www.financial-ombudsman.org.uk",
}
LEAFLET = {
    "en": "We enclose the Financial Ombudsman Service's leaflet, which explains what it does.",
    "es": "Adjuntamos el folleto del Financial Ombudsman Service, que explica lo que hace.",
}
# DISP 1 Annex 3R (1): the firm does not consent to waive the six-month time limit.
WAIVER = {
    "en": "You have the right to refer your complaint to the Financial Ombudsman Service, free "
    "of charge – but you must do so within six months of the date of this letter.\n\nIf you do "
    "not refer your complaint in time, the Ombudsman will not have our permission to consider "
    "your complaint and so will only be able to do so in very limited circumstances. For "
    "example, if the Ombudsman believes that the delay was as a result of exceptional "
    "circumstances.",
    "es": "Tiene derecho a remitir su reclamación al Financial Ombudsman Service (el defensor "
    "del cliente financiero del Reino Unido), de forma gratuita, pero debe hacerlo en un plazo "
    "de seis meses desde la fecha de esta carta.\n\nSi no la remite a tiempo, el Ombudsman no "
    "tendrá nuestro permiso para examinar su reclamación y solo podrá hacerlo en "
    "circunstancias muy limitadas; por ejemplo, si considera que el retraso se debió a "
    "circunstancias excepcionales.",
}
AFCA = {
    "en": "Australian Financial Complaints Authority\nWebsite: www.afca.org.au\nEmail: "
    "info@afca.org.au\nPhone: 1800 931 678 (free call)\nMail: GPO Box 3, Melbourne VIC 3001",
    "es": "Australian Financial Complaints Authority\nWeb: www.afca.org.au\nCorreo electrónico: "
    "info@afca.org.au\nTeléfono: 1800 931 678 (gratuito)\nCorreo postal: GPO Box 3, Melbourne "
    "VIC 3001",
}


def acknowledgment(language, promise=""):
    if language == "es":
        body = (
            "Gracias por ponerse en contacto con nosotros. Hemos recibido su reclamación del "
            "{{ date_of_complaint }} y estamos estudiándola. Su referencia es {{ reference }}."
        )
        subject = "Hemos recibido su reclamación {{ reference }}"
    else:
        body = (
            "Thank you for contacting us. We have received your complaint of "
            "{{ date_of_complaint }} and we are looking into it. Your reference is "
            "{{ reference }}."
        )
        subject = "We have received your complaint {{ reference }}"
    return subject, GREETING[language] + body + (f"\n\n{promise}" if promise else "") + SIGN_OFF


FCA_PROMISE = {
    "en": "We will keep you informed of our progress. We will send you our final response, or "
    "a letter explaining why we need more time, within 8 weeks of receiving your complaint.",
    "es": "Le mantendremos informado/a de nuestros avances. Le enviaremos nuestra respuesta "
    "final, o una carta que explique por qué necesitamos más tiempo, en un plazo de 8 semanas "
    "desde que recibimos su reclamación.",
}
PAYMENTS_PROMISE = {
    "en": "We will keep you informed of our progress. We will send you our final response "
    "within 15 business days of receiving your complaint; in exceptional circumstances we will "
    "write to explain the delay and send our final response within 35 business days.",
    "es": "Le mantendremos informado/a de nuestros avances. Le enviaremos nuestra respuesta "
    "final en un plazo de 15 días hábiles desde que recibimos su reclamación; en "
    "circunstancias excepcionales le escribiremos para explicarle el retraso y le enviaremos "
    "nuestra respuesta final en un plazo de 35 días hábiles.",
}


def final_response(language, closing):
    if language == "es":
        subject = "Nuestra respuesta final a su reclamación {{ reference }}"
        body = (
            "Esta es nuestra respuesta final a la reclamación que presentó el "
            "{{ date_of_complaint }}.\n\nNuestra decisión\n{{ resolution }}\n\n"
            "Los motivos de nuestra decisión\n…"
        )
    else:
        subject = "Our final response to your complaint {{ reference }}"
        body = (
            "This is our final response to the complaint you made on {{ date_of_complaint }}."
            "\n\nOur decision\n{{ resolution }}\n\nThe reasons for our decision\n…"
        )
    return subject, GREETING[language] + body + (f"\n\n{closing}" if closing else "") + SIGN_OFF


def fca_closing(language):
    heading = {
        "en": "If you are not satisfied: the Financial Ombudsman Service",
        "es": "Si no está satisfecho/a: el Financial Ombudsman Service",
    }[language]
    return f"{heading}\n{WAIVER[language]}\n\n{FOS_ADDRESS[language]}\n\n{LEAFLET[language]}"


def fca_holding(language):
    if language == "es":
        subject = "Su reclamación {{ reference }}: nuestra respuesta final aún no está lista"
        body = (
            "Recibimos su reclamación el {{ received_date }}. Lamentamos no poder darle todavía "
            "nuestra respuesta final.\n\nPor qué todavía no podemos darle nuestra respuesta "
            "final\n…\n\nCuándo esperamos darle nuestra respuesta final\nEsperamos enviarle "
            "nuestra respuesta final a más tardar el …\n\nSi no desea esperar, puede remitir "
            "ya su reclamación al Financial Ombudsman Service, de forma gratuita."
        )
    else:
        subject = "Your complaint {{ reference }}: our final response is not ready yet"
        body = (
            "We received your complaint on {{ received_date }}. We are sorry that we are not "
            "yet able to give you our final response.\n\nWhy we cannot give you our final "
            "response yet\n…\n\nWhen we expect to give you our final response\nWe expect to "
            "send you our final response by …\n\nIf you do not want to wait, you may now refer "
            "your complaint to the Financial Ombudsman Service, free of charge."
        )
    body += f"\n\n{FOS_ADDRESS[language]}\n\n{LEAFLET[language]}"
    return subject, GREETING[language] + body + SIGN_OFF


def payments_holding(language):
    if language == "es":
        subject = "Su reclamación {{ reference }}: necesitamos más tiempo"
        body = (
            "Recibimos su reclamación el {{ received_date }}. Por circunstancias "
            "excepcionales, no podemos darle nuestra respuesta final en el plazo de 15 días "
            "hábiles.\n\nLos motivos del retraso\n…\n\nRecibirá nuestra respuesta final a más "
            "tardar el {{ final_response_date }}, dentro de los 35 días hábiles siguientes a "
            "la recepción de su reclamación."
        )
    else:
        subject = "Your complaint {{ reference }}: we need more time"
        body = (
            "We received your complaint on {{ received_date }}. Because of exceptional "
            "circumstances we cannot give you our final response within 15 business days.\n\n"
            "The reasons for the delay\n…\n\nYou will receive our final response by "
            "{{ final_response_date }}, within 35 business days of receiving your complaint."
        )
    return subject, GREETING[language] + body + SIGN_OFF


def summary_resolution(language):
    if language == "es":
        subject = "Su reclamación {{ reference }} está resuelta"
        body = (
            "Gracias por su reclamación del {{ date_of_complaint }}. Nos alegra haber podido "
            "resolverla: {{ resolution }}\n\nConsideramos resuelta su reclamación.\n\nSi más "
            "adelante decide que no está satisfecho/a con la solución, es posible que pueda "
            "remitir su reclamación al Financial Ombudsman Service.\n\n"
        )
        more = (
            "Encontrará más información sobre el Financial Ombudsman Service en su web: "
            "www.financial-ombudsman.org.uk"
        )
    else:
        subject = "Your complaint {{ reference }} is resolved"
        body = (
            "Thank you for your complaint of {{ date_of_complaint }}. We are pleased that we "
            "have been able to resolve it: {{ resolution }}\n\nWe now consider your complaint "
            "to be resolved.\n\nIf you later decide that you are not satisfied with how we "
            "resolved it, you may be able to refer your complaint to the Financial Ombudsman "
            "Service.\n\n"
        )
        more = (
            "You can find more information about the Financial Ombudsman Service on its "
            "website: www.financial-ombudsman.org.uk"
        )
    return subject, GREETING[language] + body + WAIVER[language] + "\n\n" + more + SIGN_OFF


def idr_response(language):
    if language == "es":
        subject = "Nuestra respuesta a su reclamación {{ reference }}"
        body = (
            "Esta es nuestra respuesta final a la reclamación que presentó el "
            "{{ date_of_complaint }}.\n\nEl resultado\n{{ resolution }}\n\nNuestras "
            "conclusiones y los motivos de nuestra decisión\n… (los hechos relevantes que "
            "hemos comprobado y la información en la que nos basamos)\n\nSi no está "
            "satisfecho/a: la Australian Financial Complaints Authority\nSi no está "
            "satisfecho/a con nuestra respuesta, puede llevar su reclamación a la Australian "
            "Financial Complaints Authority (AFCA), un servicio externo de resolución de "
            "conflictos, gratuito. Dispone de dos años desde la fecha de esta respuesta para "
            "presentarla ante AFCA; pueden aplicarse otros plazos."
        )
    else:
        subject = "Our response to your complaint {{ reference }}"
        body = (
            "This is our final response to the complaint you made on {{ date_of_complaint }}."
            "\n\nThe outcome\n{{ resolution }}\n\nOur findings and the reasons for our decision"
            "\n… (the material facts we found and the information we relied on)\n\nIf you are "
            "not satisfied: the Australian Financial Complaints Authority\nIf you are not "
            "satisfied with our response, you can take your complaint to the Australian "
            "Financial Complaints Authority (AFCA), a free, independent external dispute "
            "resolution scheme. You have two years from the date of this response to lodge "
            "your complaint with AFCA; other time limits may apply."
        )
    return subject, GREETING[language] + body + f"\n\n{AFCA[language]}" + SIGN_OFF


def delay_notice(language, days):
    if language == "es":
        subject = "Su reclamación {{ reference }}: nuestra respuesta se retrasará"
        body = (
            f"Lo sentimos: no podremos darle nuestra respuesta a su reclamación del "
            f"{{{{ date_of_complaint }}}} en el plazo de {days} días que le indicamos.\n\n"
            "Los motivos del retraso\n…\n\nSi no está satisfecho/a, tiene derecho a llevar ya "
            "su reclamación a la Australian Financial Complaints Authority (AFCA), de forma "
            "gratuita."
        )
    else:
        subject = "Your complaint {{ reference }}: our response will be late"
        body = (
            f"We are sorry: we will not be able to give you our response to your complaint of "
            f"{{{{ date_of_complaint }}}} within the {days} days we told you.\n\n"
            "The reasons for the delay\n…\n\nIf you are not satisfied, you have the right to "
            "take your complaint to the Australian Financial Complaints Authority (AFCA) now, "
            "free of charge."
        )
    return subject, GREETING[language] + body + f"\n\n{AFCA[language]}" + SIGN_OFF


def cfpb_company_response(language):
    if language == "es":
        subject = "Nuestra respuesta a su reclamación {{ reference }} (CFPB)"
        body = (
            "Esta es nuestra respuesta a la reclamación que presentó a través de la Consumer "
            "Financial Protection Bureau el {{ date_of_complaint }}.\n\nLas medidas que hemos "
            "tomado\n…\n\nLo que hemos hecho\n{{ resolution }}\n\nNuestros próximos pasos\n…"
        )
    else:
        subject = "Our response to your complaint {{ reference }} (CFPB)"
        body = (
            "This is our response to the complaint you submitted through the Consumer "
            "Financial Protection Bureau on {{ date_of_complaint }}.\n\nThe steps we have "
            "taken\n…\n\nWhat we have done\n{{ resolution }}\n\nOur next steps\n…"
        )
    return subject, GREETING[language] + body + SIGN_OFF


TYPE_NAMES = {
    "en": {
        T.ACKNOWLEDGMENT: "acknowledgment",
        T.HOLDING_RESPONSE: "holding response",
        T.FINAL_RESPONSE: "final response",
        T.SUMMARY_RESOLUTION: "summary resolution communication",
        T.DELAY_NOTICE: "IDR delay notification",
        T.CFPB_COMPANY_RESPONSE: "company response",
    },
    "es": {
        T.ACKNOWLEDGMENT: "acuse de recibo",
        T.HOLDING_RESPONSE: "respuesta provisional",
        T.FINAL_RESPONSE: "respuesta final",
        T.SUMMARY_RESOLUTION: "comunicación de resolución",
        T.DELAY_NOTICE: "aviso de retraso",
        T.CFPB_COMPANY_RESPONSE: "respuesta de la empresa",
    },
}
PROFILE_NAMES = {
    "house": "House",
    "fca": "FCA",
    "fca-payments": "FCA payment services",
    "asic": "ASIC",
    "asic-super": "ASIC superannuation",
    "cfpb": "CFPB",
}


def wording(profile, response_type, language):
    """(subject, body) of the seeded template."""
    if response_type == T.ACKNOWLEDGMENT:
        promise = {"fca": FCA_PROMISE, "fca-payments": PAYMENTS_PROMISE}.get(profile)
        return acknowledgment(language, promise[language] if promise else "")
    if response_type == T.FINAL_RESPONSE:
        if profile.startswith("asic"):
            return idr_response(language)
        return final_response(language, fca_closing(language) if profile.startswith("fca") else "")
    if response_type == T.HOLDING_RESPONSE:
        return payments_holding(language) if profile == "fca-payments" else fca_holding(language)
    if response_type == T.SUMMARY_RESOLUTION:
        return summary_resolution(language)
    if response_type == T.DELAY_NOTICE:
        return delay_notice(language, 45 if profile == "asic-super" else 30)
    return cfpb_company_response(language)


def templates():
    """[(profile code, response type, language, name, subject, body)]."""
    rows = []
    for profile, by_type in elements().items():
        for response_type in by_type:
            for language in ("en", "es"):
                subject, body = wording(profile, response_type, language)
                name = f"{PROFILE_NAMES[profile]}: {TYPE_NAMES[language][response_type]}"
                if language != "en":
                    name += f" ({language})"
                rows.append((profile, response_type, language, name, subject, body))
    return rows


# Seeding ------------------------------------------------------------------------------------


def seed(apps):
    """Write the elements and templates through `apps` (a migration's or the live
    registry), for the seeded profiles present. The templates go in with their first
    history row, which the messages sent from them name."""
    RegulatoryProfile = apps.get_model("complaints", "RegulatoryProfile")
    RequiredElement = apps.get_model("complaints", "RequiredElement")
    ResponseTemplate = apps.get_model("complaints", "ResponseTemplate")
    HistoricalResponseTemplate = apps.get_model("complaints", "HistoricalResponseTemplate")
    profiles = {p.code: p for p in RegulatoryProfile.objects.filter(code__in=PROFILE_NAMES)}
    RequiredElement.objects.bulk_create(
        [
            RequiredElement(profile=profiles[code], response_type=response_type, **values)
            for code, by_type in elements().items()
            if code in profiles
            for response_type, listed in by_type.items()
            for values in listed
        ]
    )
    taken = set(ResponseTemplate.objects.values_list("name", flat=True))
    created = ResponseTemplate.objects.bulk_create(
        [
            ResponseTemplate(
                name=name,
                language=language,
                subject=subject,
                body=body,
                response_type=response_type,
                profile=profiles[code],
            )
            for code, response_type, language, name, subject, body in templates()
            if code in profiles and name not in taken
        ]
    )
    now = timezone.now()
    fields = [f.attname for f in ResponseTemplate._meta.concrete_fields]
    HistoricalResponseTemplate.objects.bulk_create(
        [
            HistoricalResponseTemplate(
                **{name: getattr(template, name) for name in fields},
                history_date=now,
                history_type="+",
                history_change_reason="Seeded from the published rules (docs/responses.md)",
            )
            for template in created
        ]
    )


def unseed(apps):
    """Reverse of seed: the seeded elements and the seeded templates no message was sent
    from. What managers added, and the versions messages name, stay."""
    RequiredElement = apps.get_model("complaints", "RequiredElement")
    ResponseTemplate = apps.get_model("complaints", "ResponseTemplate")
    OutboundMessage = apps.get_model("complaints", "OutboundMessage")
    seeded = Q(pk__in=[])
    for code, by_type in elements().items():
        for response_type, listed in by_type.items():
            seeded |= Q(
                profile__code=code,
                response_type=response_type,
                code__in=[values["code"] for values in listed],
            )
    RequiredElement.objects.filter(seeded).delete()
    sent_from = OutboundMessage.objects.filter(template_version__isnull=False).values(
        "template_version__id"
    )
    names = [row[3] for row in templates()]
    ResponseTemplate.objects.filter(name__in=names).exclude(pk__in=sent_from).delete()
