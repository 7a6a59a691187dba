"""Reading an email as it arrived (RFC 5322 and MIME) into what the inbound service needs:
who wrote it, what it answers, its text, its attachments, and whether a person wrote it at
all. No database here, so every sample in tests/data/mail is tested on its own.

Everything in a message is the sender's to choose, headers included: nothing read here is
trusted beyond being text, and HTML is only ever shown through `safe_html`.
"""

import html as html_lib
import re
from dataclasses import dataclass, field
from datetime import datetime
from email import policy
from email.parser import BytesParser, HeaderParser
from email.utils import getaddresses, parseaddr, parsedate_to_datetime

import nh3

REFERENCE = re.compile(r"\bCMP-\d{4}-\d{6,}\b", re.IGNORECASE)
_PLUS_REFERENCE = re.compile(r"\+(CMP-\d{4}-\d{6,})@", re.IGNORECASE)
_MESSAGE_ID = re.compile(r"<[^<>\s]+>")
# What mail programs put in front of an out-of-office reply's subject when they send none of
# the RFC 3834 headers (older Exchange, some mobile clients).
_AUTOMATIC_SUBJECT = re.compile(
    r"^\s*(automatic reply|auto[- ]?reply|auto[- ]?response|out of (the )?office|"
    r"away from the office|abwesenheitsnotiz|respuesta autom[aá]tica)\b",
    re.IGNORECASE,
)
_NULL_SENDERS = {"mailer-daemon", "postmaster"}
# Longest text kept of one message: a quoted thread can be long, a novel cannot.
MAX_TEXT = 100_000
SAFE_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "caption", "code", "dd", "div", "dl", "dt", "em",
    "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "li", "ol", "p", "pre", "q", "s", "small",
    "span", "strong", "sub", "sup", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "u",
    "ul",
}  # fmt: skip


@dataclass
class Part:
    """One attachment: its name as the sender gave it, and its bytes."""

    name: str
    content_type: str
    data: bytes


@dataclass
class ParsedEmail:
    message_id: str
    sender: str
    sender_name: str
    recipients: list
    subject: str
    written_at: datetime | None
    # Message-IDs it names as what it answers: In-Reply-To first, then References, newest first.
    answers: list
    text: str
    html: str
    attachments: list = field(default_factory=list)
    # Why no person wrote it ("Auto-Submitted: auto-replied"), or "" when one did.
    automatic: str = ""
    # A delivery status notification that a message failed: the Message-IDs it reports on.
    bounced_ids: list = field(default_factory=list)
    bounce_reason: str = ""

    @property
    def is_bounce(self):
        return bool(self.bounce_reason)

    def references(self):
        """Complaint references it names: its reply address first, then its subject."""
        found = [m.upper() for address in self.recipients for m in _PLUS_REFERENCE.findall(address)]
        return list(dict.fromkeys(found)), [m.upper() for m in REFERENCE.findall(self.subject)]


def parse(raw: bytes, *, digest: str) -> ParsedEmail:
    """`digest` stands in for the Message-ID of a message that has none, so it is still
    stored once however often it is fetched."""
    message = BytesParser(policy=policy.default).parsebytes(raw)
    sender_name, sender = _sender(message)
    plain = message.get_body(preferencelist=("plain",))
    rich = message.get_body(preferencelist=("html",))
    text, html = _bodies(plain, rich)
    bounced_ids, bounce_reason = _bounce(message)
    parsed = ParsedEmail(
        message_id=(_MESSAGE_ID.findall(_header(message, "Message-ID")) or [f"<{digest}@sha256>"])[
            0
        ][:250],
        sender=sender,
        sender_name=sender_name,
        recipients=_recipients(message),
        subject=" ".join(_header(message, "Subject").split())[:300],
        written_at=_date(message),
        answers=_answers(message),
        text=text,
        html=html,
        attachments=[] if bounce_reason else _attachments(message, plain, rich),
        bounced_ids=bounced_ids,
        bounce_reason=bounce_reason,
    )
    parsed.automatic = "Delivery failure report" if bounce_reason else _automatic(message, parsed)
    return parsed


def safe_html(html: str) -> str:
    """The sender's HTML reduced to text formatting and links: no script, style, form, image
    or attribute that could run, load or track anything."""
    return nh3.clean(
        html,
        tags=SAFE_TAGS,
        clean_content_tags={"script", "style", "title", "head"},
        attributes={"a": {"href"}, "td": {"colspan", "rowspan"}, "th": {"colspan", "rowspan"}},
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
    )


def html_to_text(html: str) -> str:
    """A readable plain text of an HTML-only message."""
    html = re.sub(r"(?i)<br\s*/?>|</p>|</div>|</tr>|</h\d>|</li>", "\n", html)
    text = html_lib.unescape(nh3.clean(html, tags=set(), clean_content_tags={"script", "style"}))
    lines = [" ".join(line.split()) for line in text.splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def _header(message, name):
    try:
        return str(message.get(name, "") or "")
    except (ValueError, TypeError, IndexError):  # a header the parser cannot make sense of
        return ""


def _sender(message):
    for name in ("From", "Sender", "Reply-To"):
        value = _header(message, name)
        if value:
            display, address = parseaddr(value)
            if "@" in address:
                return " ".join(display.split())[:200], address.strip().lower()[:254]
    return "", ""


def _recipients(message):
    values = [
        _header(message, name)
        for name in ("To", "Cc", "Delivered-To", "X-Original-To", "Envelope-To")
    ]
    return [address.lower() for _, address in getaddresses(values) if "@" in address]


def _date(message):
    try:
        return parsedate_to_datetime(_header(message, "Date"))
    except (TypeError, ValueError, IndexError):
        return None


def _answers(message):
    in_reply_to = _MESSAGE_ID.findall(_header(message, "In-Reply-To"))
    references = _MESSAGE_ID.findall(_header(message, "References"))
    return list(dict.fromkeys(in_reply_to + references[::-1]))[:50]


def _content(part):
    try:
        content = part.get_content()
    except (LookupError, ValueError, AssertionError):  # an unknown or lying charset
        content = (part.get_payload(decode=True) or b"").decode("utf-8", "replace")
    return content if isinstance(content, str) else content.decode("utf-8", "replace")


def _bodies(plain, rich):
    html = _content(rich)[: MAX_TEXT * 2] if rich is not None else ""
    if plain is not None:
        text = _content(plain)
    elif html:
        text = html_to_text(html)
    else:
        text = ""
    return text.replace("\r\n", "\n").strip()[:MAX_TEXT], html


def _attachments(message, plain, rich):
    """Every part that is a file rather than the text: attachments and inline images."""
    bodies = {id(body) for body in (plain, rich) if body is not None}
    found = []

    def visit(part):
        if part.get_content_type() == "message/rfc822":
            found.append(Part(_name(part, "forwarded message.eml"), "message/rfc822", _bytes(part)))
            return
        if part.is_multipart():
            for sub in part.iter_parts():
                visit(sub)
            return
        if id(part) in bodies:
            return
        named = part.get_filename() or part.get_content_disposition() == "attachment"
        if named or part.get_content_maintype() != "text":
            found.append(Part(_name(part, "attachment"), part.get_content_type(), _bytes(part)))

    visit(message)
    return found


def _name(part, default):
    try:
        return part.get_filename() or default
    except (ValueError, TypeError):
        return default


def _bytes(part):
    if part.get_content_type() == "message/rfc822":
        inner = part.get_payload()
        inner = inner[0] if isinstance(inner, list) else inner
        return inner.as_bytes(policy=policy.SMTP)
    return part.get_payload(decode=True) or b""


def _automatic(message, parsed):
    """Why a program, not a person, sent it (RFC 3834 and the conventions before it)."""
    auto_submitted = _header(message, "Auto-Submitted").strip().lower()
    if auto_submitted and auto_submitted != "no":
        return f"Auto-Submitted: {auto_submitted}"
    precedence = _header(message, "Precedence").strip().lower()
    if precedence in {"bulk", "list", "junk", "auto_reply"}:
        return f"Precedence: {precedence}"
    for name in ("X-Autoreply", "X-Autorespond", "X-Autoresponder", "X-Autogenerated"):
        if _header(message, name):
            return f"{name} header"
    if _header(message, "List-Id") or _header(message, "List-Unsubscribe"):
        return "Mailing list message"
    if _header(message, "Return-Path").strip() == "<>":
        return "Sent with no return address (a mail server's report)"
    if parsed.sender.split("@")[0] in _NULL_SENDERS:
        return f"From {parsed.sender}"
    if message.get_content_type() == "multipart/report":
        return "Delivery or read report"
    if _AUTOMATIC_SUBJECT.match(parsed.subject):
        return "Out-of-office subject"
    return ""


def _bounce(message):
    """A delivery status notification (RFC 3464) saying a message could not be delivered:
    the Message-IDs of the messages it reports on, and why, in the server's words."""
    if message.get_content_type() != "multipart/report":
        return [], ""
    if message.get_param("report-type", "").lower() != "delivery-status":
        return [], ""
    failed, reason, ids = False, "", []
    for part in message.walk():
        kind = part.get_content_type()
        if kind == "message/delivery-status":
            for block in part.get_payload():
                action = str(block.get("Action", "")).strip().lower()
                if action == "failed":
                    failed = True
                    status = str(block.get("Status", "")).strip()
                    diagnostic = " ".join(str(block.get("Diagnostic-Code", "")).split())
                    reason = reason or f"{status} {diagnostic}".strip() or "Delivery failed"
        elif kind == "message/rfc822":
            inner = part.get_payload()
            inner = inner[0] if isinstance(inner, list) else inner
            ids += _MESSAGE_ID.findall(str(inner.get("Message-ID", "")))
        elif kind == "text/rfc822-headers":
            headers = HeaderParser().parsestr(_content(part))
            ids += _MESSAGE_ID.findall(str(headers.get("Message-ID", "")))
    if not failed:
        return [], ""
    return list(dict.fromkeys(ids + _answers(message))), reason[:300]


def bare_address(address):
    """complaints+cmp-2026-000027@example.com and "Team <complaints@example.com>" are both
    complaints@example.com: how we know an echo of our own mail."""
    local, _, domain = parseaddr(address)[1].lower().partition("@")
    return f"{local.split('+')[0]}@{domain}" if domain else ""
