"""Checks uploaded supporting documents by what is inside them, not by what they are called.

Pure standard library so it can be tested without Django. The content type we later serve a
file as comes from this detection only: the browser's claim and the file name are both under
the uploader's control, and a web page smuggled in as "invoice.pdf" is a stored XSS waiting
for a member of staff to open it.
"""

import codecs
import hashlib
import re
import struct
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, replace

SNIFF_BYTES = 64 * 1024
MAX_NAME = 120
ACCEPTED = (
    "We accept PDF, images (PNG, JPEG, GIF, WebP), Word, Excel, PowerPoint, OpenDocument, "
    "plain text, CSV and saved emails."
)


class UploadRejected(Exception):
    """Carries a sentence for the user, e.g. 'This file is larger than the 10 MB limit.'"""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class CheckedUpload:
    display_name: str
    kind: str
    content_type: str
    extension: str
    size: int
    sha256: str


@dataclass(frozen=True)
class _Kind:
    label: str
    content_type: str
    extensions: tuple[str, ...]  # the first one is canonical
    claim: str  # how a refusal names it: "This file is called x.pdf but it is not a PDF."


_OOXML = "application/vnd.openxmlformats-officedocument."
_ODF = "application/vnd.oasis.opendocument."
# fmt: off
_KIND_ROWS = {  # label, content type, extensions (canonical first), how a refusal names it
    "pdf":  ("PDF document", "application/pdf", ".pdf", "a PDF"),
    "png":  ("PNG image", "image/png", ".png", "a PNG image"),
    "jpeg": ("JPEG image", "image/jpeg", ".jpg .jpeg .jpe .jfif", "a JPEG image"),
    "gif":  ("GIF image", "image/gif", ".gif", "a GIF image"),
    "webp": ("WebP image", "image/webp", ".webp", "a WebP image"),
    "docx": ("Word document", _OOXML + "wordprocessingml.document", ".docx", "a Word document"),
    "xlsx": ("Excel spreadsheet", _OOXML + "spreadsheetml.sheet", ".xlsx", "an Excel spreadsheet"),
    "pptx": ("PowerPoint presentation", _OOXML + "presentationml.presentation", ".pptx",
             "a PowerPoint presentation"),
    "odt":  ("OpenDocument text", _ODF + "text", ".odt", "an OpenDocument text document"),
    "ods":  ("OpenDocument spreadsheet", _ODF + "spreadsheet", ".ods", "an OpenDocument sheet"),
    "doc":  ("Word document", "application/msword", ".doc", "a Word document"),
    "xls":  ("Excel spreadsheet", "application/vnd.ms-excel", ".xls", "an Excel spreadsheet"),
    "msg":  ("Saved email", "application/vnd.ms-outlook", ".msg", "a saved email"),
    "txt":  ("Plain text", "text/plain; charset=utf-8", ".txt .text .log", "a text file"),
    "csv":  ("CSV file", "text/csv", ".csv", "a CSV file"),
    "eml":  ("Saved email", "message/rfc822", ".eml", "a saved email"),
}
_MEDIA = ((b"%PDF-", "pdf"), (b"\x89PNG\r\n\x1a\n", "png"), (b"\xff\xd8\xff", "jpeg"),
          (b"GIF87a", "gif"), (b"GIF89a", "gif"))
_EXECUTABLES = (b"MZ", b"\x7fELF", b"\xca\xfe\xba\xbe", b"\xfe\xed\xfa", b"\xce\xfa\xed\xfe",
                b"\xcf\xfa\xed\xfe")
_ARCHIVES = (b"PK", b"Rar!\x1a\x07", b"7z\xbc\xaf\x27\x1c", b"\x1f\x8b", b"\xfd7zXZ\x00")
_EMAIL_FIELDS = {"from", "to", "cc", "subject", "date", "received", "return-path", "message-id",
                 "mime-version", "delivered-to", "reply-to", "sender"}
# fmt: on
KINDS = {
    key: _Kind(label, ctype, tuple(exts.split()), claim)
    for key, (label, ctype, exts, claim) in _KIND_ROWS.items()
}
_CLAIMS = {ext: kind.claim for kind in KINDS.values() for ext in kind.extensions}
_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
# Outlook first: a saved email with a Word attachment also contains a WordDocument stream.
_OLE_STREAMS = (("__substg1.0_", "msg"), ("WordDocument", "doc"), ("Workbook", "xls"))
_ODF_KINDS = {KINDS[key].content_type.encode(): key for key in ("odt", "ods")}
_MARKUP = ("<!doctype html", "<html", "<script", "<svg", "<?xml", "<body", "<iframe")
# PDFs and photos legitimately carry XMP metadata, which is XML; only page markup is suspect.
_ACTIVE_MARKUP = tuple(m for m in _MARKUP if m != "<?xml")
_MARKUP_BYTES = tuple((m, m.encode()) for m in _MARKUP)
_LONGEST_MARKER = max(len(m) for m in _MARKUP) - 1
# Past the head of a PDF or an image, compressed data holds a short marker such as "<svg" by
# chance in about one large file in fifty; these are long enough not to.
_DEEP_MARKUP = frozenset({"<!doctype html", "<html", "<script", "<iframe"})
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f-\x9f]")
_EMAIL_FIELD = re.compile(r"[!-9;-~]+:")  # RFC 5322 field-name: printable ASCII except ":"
_UNSAFE_NAME_CHARS = re.compile(r'[<>:"|?*]')
_EXTENSION = re.compile(r"\.([a-z0-9]{1,5})$", re.IGNORECASE)

# fmt: off
_MARKUP_MSG = ("This file contains web page or script content (HTML, SVG or XML), which we cannot "
               "accept. Please save it as a PDF and upload that instead.")
_EXECUTABLE_MSG = "Programs cannot be accepted as supporting documents."
_ARCHIVE_MSG = ("Compressed archives (such as ZIP, RAR, 7z or gzip files) cannot be accepted. "
                "Please upload the documents inside it one at a time.")
_MACRO_MSG = ("Office files containing macros cannot be accepted. Please save it as an ordinary "
              "document or spreadsheet and try again.")
_UNKNOWN_MSG = "We could not recognise this type of file. " + ACCEPTED
# fmt: on


def safe_display_name(name: str) -> str:
    name = re.split(r"[/\\]", unicodedata.normalize("NFC", name or ""))[-1]
    # Format characters include the right-to-left override that makes "cod.exe" read "exe.doc".
    name = "".join(c for c in name if unicodedata.category(c) not in ("Cc", "Cf", "Cs"))
    name = " ".join(_UNSAFE_NAME_CHARS.sub("", name).split())
    name = name.strip(". ")  # leading dots hide files; trailing ones are dropped by Windows
    stem, ext = _split_extension(name)
    return _with_extension(stem, ext) if stem else "attachment"


def check_upload(name: str, chunks: Iterable[bytes], max_bytes: int) -> CheckedUpload:
    head, size, sha256, markup = _read(chunks, max_bytes)
    display = safe_display_name(name)
    stem, ext = _split_extension(display)
    ext = ext.lower()
    kind = _detect(head, complete=size == len(head), ext=ext, markup=markup)
    if ext and ext not in kind.extensions:
        if not kind.content_type.startswith("image/"):
            raise UploadRejected(_mismatch_message(display, ext, kind))
        ext = ""  # a PNG saved as .jpg is harmless; we just correct the name
    if not ext:
        ext = kind.extensions[0]
        display = _with_extension(stem, ext)
    return CheckedUpload(display, kind.label, kind.content_type, ext, size, sha256)


def _read(chunks: Iterable[bytes], max_bytes: int) -> tuple[bytes, int, str, frozenset[str]]:
    """The head of the file, its size, its SHA-256 and the markup markers anywhere in it."""
    head, size, digest = bytearray(), 0, hashlib.sha256()
    markup, carry = set(), b""
    for chunk in chunks:
        size += len(chunk)
        if size > max_bytes:  # stop before reading (or storing) the rest of a huge upload
            raise UploadRejected(f"This file is larger than the {_megabytes(max_bytes)} limit.")
        digest.update(chunk)
        if len(head) < SNIFF_BYTES:
            head += chunk[: SNIFF_BYTES - len(head)]
        # The whole file, not the head only: a page can follow 64 KiB of harmless text.
        window = carry + chunk.lower()
        markup.update(m for m, encoded in _MARKUP_BYTES if encoded in window)
        carry = window[-_LONGEST_MARKER:]
    if not size:
        raise UploadRejected("The file is empty.")
    return bytes(head), size, digest.hexdigest(), frozenset(markup)


def _detect(head: bytes, complete: bool, ext: str, markup: frozenset[str]) -> _Kind:
    key = next((key for magic, key in _MEDIA if head.startswith(magic)), None)
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        key = "webp"
    if key:
        # PDF/HTML polyglots: any active markup in the head, and beyond it the markers too
        # long for compressed image or PDF data to hold by chance.
        if _has_markup(head.decode("latin-1"), _ACTIVE_MARKUP) or markup & _DEEP_MARKUP:
            raise UploadRejected(_MARKUP_MSG)
        return KINDS[key]
    # Office files are archives of XML parts, so the markup scan would only cry wolf there.
    if head.startswith(_OLE):
        return _ole_kind(head, ext)
    if head.startswith(b"PK\x03\x04"):
        return _zip_kind(head)
    if head.startswith(_EXECUTABLES):
        raise UploadRejected(_EXECUTABLE_MSG)
    if head.startswith(_ARCHIVES):
        raise UploadRejected(_ARCHIVE_MSG)
    return _text_kind(head, complete, ext, markup)


def _ole_kind(head: bytes, ext: str) -> _Kind:
    # The directory may lie beyond the first 64 KiB, so fall back to the name's extension.
    found = [key for stream, key in _OLE_STREAMS if stream.encode("utf-16-le") in head]
    named = ext.removeprefix(".")
    if named in ("doc", "xls", "msg") and (named in found or not found):
        return KINDS[named]
    if not found:
        raise UploadRejected(_UNKNOWN_MSG)
    return KINDS[found[0]]


def _zip_kind(head: bytes) -> _Kind:
    entries = list(_zip_entries(head))
    names = [name for name, _ in entries]
    if any(name.endswith("vbaProject.bin") for name in names):
        raise UploadRejected(_MACRO_MSG)
    if "[Content_Types].xml" in names:
        for prefix, key in (("word/", "docx"), ("xl/", "xlsx"), ("ppt/", "pptx")):
            if any(name.startswith(prefix) for name in names):
                return KINDS[key]
    if entries and entries[0][0] == "mimetype" and entries[0][1].strip() in _ODF_KINDS:
        return KINDS[_ODF_KINDS[entries[0][1].strip()]]
    raise UploadRejected(_ARCHIVE_MSG)


def _zip_entries(head: bytes):
    """Yield (name, stored bytes) for each local file header that starts in the head."""
    for match in re.finditer(rb"PK\x03\x04", head):
        at = match.start()
        if at + 30 > len(head):
            return
        _, size, _, name_len, extra_len = struct.unpack_from("<IIIHH", head, at + 14)
        name, data = head[at + 30 : at + 30 + name_len], at + 30 + name_len + extra_len
        yield name.decode("utf-8", "replace"), head[data : data + size]


def _text_kind(head: bytes, complete: bool, ext: str, markup: frozenset[str]) -> _Kind:
    text, charset = _decode(head, complete)
    headers = _email_headers(text) if text is not None and ext in ("", ".eml", ".msg") else None
    # An email's body is usually HTML, but served as message/rfc822 it is downloaded rather than
    # rendered, so only its headers must be free of markup. Any other text file: none anywhere.
    if _has_markup(headers, _MARKUP) if headers is not None else markup:
        raise UploadRejected(_MARKUP_MSG)
    if text is None:
        raise UploadRejected(_UNKNOWN_MSG)
    kind = KINDS["eml" if headers is not None else "csv" if ext == ".csv" else "txt"]
    if charset == "cp1252" and kind.content_type.startswith("text/"):
        base = kind.content_type.split(";")[0]
        kind = replace(kind, content_type=f"{base}; charset=windows-1252")
    return kind


def _decode(head: bytes, complete: bool) -> tuple[str | None, str | None]:
    body = head.removeprefix(codecs.BOM_UTF8)
    for charset in ("utf-8", "cp1252"):
        try:
            # Not final unless we hold the whole file: the head may end mid-character.
            text = codecs.getincrementaldecoder(charset)().decode(body, final=complete)
        except UnicodeDecodeError:
            continue
        return (None, None) if _CONTROL.search(text) else (text, charset)
    return None, None


def _email_headers(text: str) -> str | None:
    lines = text.split("\n")
    if lines[0].startswith("From "):  # mbox separator some mail programs add when saving
        lines = lines[1:]
    fields, end = [], len(lines)
    for index, line in enumerate(lines):
        line = line.rstrip("\r")
        if not line:
            end = index
            break
        if line[0] in " \t" and fields:
            continue  # folded continuation of the previous field
        match = _EMAIL_FIELD.match(line)
        if not match:
            return None
        fields.append(match.group()[:-1].lower())
    return "\n".join(lines[:end]) if len(_EMAIL_FIELDS.intersection(fields)) >= 2 else None


def _has_markup(text: str, markers: tuple[str, ...]) -> bool:
    text = text.lower()
    return any(marker in text for marker in markers)


def _split_extension(name: str) -> tuple[str, str]:
    match = _EXTENSION.search(name)
    # "scan.2024" has no real extension, and ".pdf" alone is a name, not an extension.
    if not match or match.group(1).isdigit() or match.start() == 0:
        return name, ""
    return name[: match.start()], match.group()


def _with_extension(stem: str, ext: str) -> str:
    return stem[: MAX_NAME - len(ext)].rstrip(". ") + ext


def _mismatch_message(display: str, ext: str, kind: _Kind) -> str:
    claim = _CLAIMS.get(ext)
    if claim and claim != kind.claim:
        return f"This file is called {display} but it is not {claim}."
    return (
        f"This file is called {display}, but what is inside it is {kind.claim} that should end "
        f"in {kind.extensions[0]}. Please rename it and try again."
    )


def _megabytes(n: int) -> str:
    if n < 100 * 1024:
        return f"{n:,} bytes"
    return f"{n / 2**20:.1f}".removesuffix(".0") + " MB"
