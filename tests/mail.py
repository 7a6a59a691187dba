"""Real-looking emails for the inbound tests: the samples in tests/data/mail, with the values
only a running test knows (the complaint's reference, our Message-ID) put in."""

from email.message import EmailMessage
from pathlib import Path

SAMPLES = Path(__file__).resolve().parent / "data" / "mail"


def sample(name, **values):
    """tests/data/mail/<name>.eml with each @@KEY@@ replaced by values["key"]."""
    raw = (SAMPLES / f"{name}.eml").read_bytes()
    for key, value in values.items():
        raw = raw.replace(f"@@{key.upper()}@@".encode(), str(value).encode())
    return raw


def with_attachment(*, sender, subject, size, name="scan.pdf", message_id=None):
    """A plain reply carrying a PDF of `size` bytes (a phone's scan of a long statement)."""
    message = EmailMessage()
    message["From"] = f"Priya Shah <{sender}>"
    message["To"] = "complaints@example.com"
    message["Subject"] = subject
    message["Message-ID"] = message_id or f"<large-{size}@example.org>"
    message.set_content("The full statement is attached.")
    body = b"%PDF-1.4\n" + b"0" * max(size - 20, 0) + b"\n%%EOF\n"
    message.add_attachment(body, maintype="application", subtype="pdf", filename=name)
    return message.as_bytes()
