"""Content checks for uploaded documents. Pure: no database, no Django."""

import gzip
import hashlib
import io
import zipfile

import pytest

from complaints.uploads import (
    ACCEPTED,
    CheckedUpload,
    UploadRejected,
    check_upload,
    safe_display_name,
)

MB = 1024 * 1024
LIMIT = 10 * MB


def check(name, data, max_bytes=LIMIT):
    return check_upload(name, [data], max_bytes)


def rejected(name, data, max_bytes=LIMIT):
    with pytest.raises(UploadRejected) as caught:
        check(name, data, max_bytes)
    assert str(caught.value) == caught.value.message
    return caught.value.message


def zipped(*entries, stored_first=False):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for index, (name, data) in enumerate(entries):
            stored = stored_first and index == 0
            archive.writestr(name, data, zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED)
    return buffer.getvalue()


def ooxml(part):
    content_types = b'<?xml version="1.0"?><Types xmlns="urn:x"/>'
    return zipped(
        ("[Content_Types].xml", content_types),
        ("_rels/.rels", b"<Relationships/>"),
        (part, b"<?xml version='1.0'?><document/>"),
    )


def odf(mimetype):
    return zipped(("mimetype", mimetype), ("content.xml", b"<office/>"), stored_first=True)


def ole(stream=""):
    # Header, then a directory sector naming the stream as compound files do: UTF-16LE.
    return b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504) + stream.encode("utf-16-le") + bytes(64)


PDF = b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00\xff\xd9"
GIF = b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff!\xf9\x04\x01\x00\x00\x00\x00;"
WEBP = b"RIFF\x1a\x00\x00\x00WEBPVP8L\x0d\x00\x00\x00/\x00\x00\x00\x10\x07\x10\x11\x11\x88\x88\xfe"
EMAIL = (
    b"Received: from mail.example.com by mx.example.org; Tue, 4 Mar 2025 10:00:00 +0000\r\n"
    b"From: Ann Customer <ann@example.com>\r\n"
    b"To: complaints@example.org\r\n"
    b"Subject: My refund\r\n"
    b"Date: Tue, 4 Mar 2025 10:00:00 +0000\r\n"
    b"MIME-Version: 1.0\r\n"
    b'Content-Type: multipart/alternative; boundary="b1"\r\n'
    b"\r\n"
    b"--b1\r\nContent-Type: text/plain\r\n\r\nI was charged twice.\r\n"
    b"--b1\r\nContent-Type: text/html\r\n\r\n<html><body>I was charged twice.</body></html>\r\n"
    b"--b1--\r\n"
)
OOXML = "application/vnd.openxmlformats-officedocument."


@pytest.mark.parametrize(
    ("name", "data", "kind", "content_type"),
    [
        ("invoice.pdf", PDF, "PDF document", "application/pdf"),
        ("photo.png", PNG, "PNG image", "image/png"),
        ("photo.jpg", JPEG, "JPEG image", "image/jpeg"),
        ("photo.jpeg", JPEG, "JPEG image", "image/jpeg"),
        ("anim.gif", GIF, "GIF image", "image/gif"),
        ("shot.webp", WEBP, "WebP image", "image/webp"),
        ("letter.docx", ooxml("word/document.xml"), "Word document",
         OOXML + "wordprocessingml.document"),
        ("sums.xlsx", ooxml("xl/workbook.xml"), "Excel spreadsheet", OOXML + "spreadsheetml.sheet"),
        ("deck.pptx", ooxml("ppt/presentation.xml"), "PowerPoint presentation",
         OOXML + "presentationml.presentation"),
        ("letter.odt", odf(b"application/vnd.oasis.opendocument.text"), "OpenDocument text",
         "application/vnd.oasis.opendocument.text"),
        ("sums.ods", odf(b"application/vnd.oasis.opendocument.spreadsheet"),
         "OpenDocument spreadsheet", "application/vnd.oasis.opendocument.spreadsheet"),
        ("old.doc", ole("WordDocument"), "Word document", "application/msword"),
        ("old.xls", ole("Workbook"), "Excel spreadsheet", "application/vnd.ms-excel"),
        ("mail.msg", ole("__substg1.0_0037001F"), "Saved email", "application/vnd.ms-outlook"),
        ("old.doc", ole(), "Word document", "application/msword"),  # directory beyond the head
        ("notes.txt", "Café bill: £12\n".encode(), "Plain text", "text/plain; charset=utf-8"),
        ("notes.txt", b"\xef\xbb\xbfWith a BOM\n", "Plain text", "text/plain; charset=utf-8"),
        ("notes.txt", b"caf\xe9 \x93quoted\x94\n", "Plain text",
         "text/plain; charset=windows-1252"),
        ("rows.csv", b"date,amount\n2025-03-04,12.50\n", "CSV file", "text/csv"),
        ("mail.eml", EMAIL, "Saved email", "message/rfc822"),
    ],
)  # fmt: skip
def test_accepts_each_supported_kind(name, data, kind, content_type):
    upload = check(name, data)
    assert (upload.kind, upload.content_type) == (kind, content_type)
    assert upload.display_name == name
    assert upload.extension == "." + name.rsplit(".", 1)[1]


def test_reports_size_and_sha256_over_several_chunks():
    data = b"line of text\n" * 20_000  # bigger than the 64 KiB sniffing window
    chunks = [data[i : i + 4096] for i in range(0, len(data), 4096)]
    upload = check_upload("log.txt", iter(chunks), LIMIT)
    assert upload == CheckedUpload(
        display_name="log.txt",
        kind="Plain text",
        content_type="text/plain; charset=utf-8",
        extension=".txt",
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
    )


def test_utf8_character_split_at_the_end_of_the_sniffing_window_is_still_text():
    data = b"a" * (64 * 1024 - 1) + "é".encode() + b" more text\n"
    assert check("notes.txt", data).content_type == "text/plain; charset=utf-8"


def test_oversize_upload_is_refused_without_reading_the_rest():
    def chunks():
        yield b"x" * MB
        yield b"x" * MB
        yield b"x" * MB  # now past the limit: nothing more may be asked for
        raise AssertionError("read beyond the limit")

    with pytest.raises(UploadRejected, match="2.5 MB limit"):
        check_upload("big.txt", chunks(), int(2.5 * MB))


def test_file_exactly_at_the_limit_is_accepted():
    assert check("notes.txt", b"x" * 100, max_bytes=100).size == 100


@pytest.mark.parametrize("chunks", [[], [b""], [b"", b""]])
def test_empty_file_is_refused(chunks):
    with pytest.raises(UploadRejected, match="^The file is empty.$"):
        check_upload("empty.pdf", chunks, LIMIT)


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("invoice.pdf", b"<!DOCTYPE html><html><body>Pay here</body></html>"),
        ("notes.txt", b"\xef\xbb\xbf  \n<HTML><script>alert(1)</script></HTML>"),
        ("notes.txt", b"Dear team,\n" * 50 + b"<iframe src='https://evil.example'></iframe>"),
        ("logo.svg", b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'),
        ("logo.png", b'<svg xmlns="http://www.w3.org/2000/svg"/>'),
        ("data.xml", b'<?xml version="1.0"?><note>hi</note>'),
        ("page", b"<body onload=alert(1)>"),
        ("mail.eml", b"<html><body>no headers, just a page</body></html>"),
        ("poly.pdf", PDF + b"<html><script>alert(1)</script></html>"),
        ("poly.gif", GIF + b"<script>alert(1)</script>"),
    ],
)
def test_markup_is_refused_whatever_it_is_called(name, data):
    assert "web page or script content" in rejected(name, data)


@pytest.mark.parametrize(
    "name, data",
    [
        ("notes.txt", b"Dear team,\n" * 20_000 + b"<script>alert(1)</script>"),
        ("poly.pdf", PDF + bytes(100_000) + b"<html><script>alert(1)</script></html>"),
        ("photo.jpg", JPEG + bytes(100_000) + b"<IFRAME src=x>"),
    ],
)
def test_markup_past_the_first_64_kib_is_refused(name, data):
    assert len(data) > 64 * 1024
    assert "web page or script content" in rejected(name, data)


def test_markup_split_across_two_chunks_is_found():
    data = b"Dear team,\n" * 10_000 + b"<scr" + b"ipt>alert(1)</script>"
    cut = data.index(b"<scr") + 4
    with pytest.raises(UploadRejected):
        check_upload("notes.txt", [data[:cut], data[cut:]], LIMIT)


def test_a_short_marker_deep_in_compressed_pdf_data_is_not_mistaken_for_markup():
    # "<svg" turns up by chance in large compressed streams; only the head is held to it.
    assert check("scan.pdf", PDF + bytes(100_000) + b"<SvG" + bytes(10)).kind == "PDF document"


def test_xml_metadata_inside_a_pdf_is_not_mistaken_for_markup():
    xmp = b'<?xml version="1.0"?><x:xmpmeta xmlns:x="adobe:ns:meta/"></x:xmpmeta>'
    assert check("scan.pdf", PDF + xmp).kind == "PDF document"


@pytest.mark.parametrize(
    "data", [b"MZ\x90\x00\x03\x00\x00\x00" + bytes(100), b"\x7fELF\x02\x01\x01" + bytes(100)]
)
def test_executables_are_refused(data):
    assert rejected("statement.pdf", data) == "Programs cannot be accepted as supporting documents."


@pytest.mark.parametrize(
    "data",
    [
        zipped(("statement.pdf", PDF), ("photo.png", PNG)),
        gzip.compress(b"hello"),
        b"Rar!\x1a\x07\x01\x00" + bytes(50),
        b"7z\xbc\xaf\x27\x1c\x00\x04" + bytes(50),
    ],
)
def test_archives_are_refused(data):
    assert rejected("evidence.zip", data).startswith("Compressed archives")


def test_office_document_with_macros_is_refused():
    data = zipped(
        ("[Content_Types].xml", b"<Types/>"),
        ("word/document.xml", b"<document/>"),
        ("word/vbaProject.bin", b"\x00" * 10),
    )
    assert "macros" in rejected("letter.docx", data)


def test_unrecognised_binary_is_refused_with_the_accepted_list():
    message = rejected("data.bin", bytes(range(256)) * 4)
    assert message == "We could not recognise this type of file. " + ACCEPTED
    assert "We accept PDF, images (PNG, JPEG, GIF, WebP)" in message


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("x.pdf", b"just some words\n", "This file is called x.pdf but it is not a PDF."),
        ("x.docx", PDF, "This file is called x.docx but it is not a Word document."),
        ("x.eml", b"Hello, this is a letter.\n",
         "This file is called x.eml but it is not a saved email."),
        ("x.txt", ole("WordDocument"), "This file is called x.txt but it is not a text file."),
        ("x.doc", ooxml("word/document.xml"),
         "This file is called x.doc, but what is inside it is a Word document that should end in "
         ".docx. Please rename it and try again."),
        ("x.msg", EMAIL,
         "This file is called x.msg, but what is inside it is a saved email that should end in "
         ".eml. Please rename it and try again."),
        ("x.abc", PDF,
         "This file is called x.abc, but what is inside it is a PDF that should end in .pdf. "
         "Please rename it and try again."),
    ],
)  # fmt: skip
def test_extension_that_does_not_fit_the_content_is_refused(name, data, message):
    assert rejected(name, data) == message


def test_ole_file_of_unknown_flavour_needs_a_telling_name():
    assert rejected("x.ppt", ole()).startswith("We could not recognise")


@pytest.mark.parametrize("name", ["photo.jpg", "photo.pdf", "photo"])
def test_images_get_the_right_extension_instead_of_being_refused(name):
    upload = check(name, PNG)
    assert (upload.display_name, upload.extension) == ("photo.png", ".png")


def test_file_without_extension_gets_the_canonical_one():
    assert check("invoice", PDF).display_name == "invoice.pdf"
    assert check("notes", b"hello\n").display_name == "notes.txt"
    assert check("../../x", PDF).display_name == "x.pdf"
    assert check("forwarded", EMAIL).display_name == "forwarded.eml"


def test_extension_is_compared_without_case_but_the_name_keeps_it():
    upload = check("SCAN.PDF", PDF)
    assert (upload.display_name, upload.extension) == ("SCAN.PDF", ".pdf")


def test_saved_email_may_contain_html_in_its_body():
    # Served as message/rfc822 and downloaded, so only the headers are held to the markup rule.
    assert check("complaint.eml", EMAIL).kind == "Saved email"


@pytest.mark.parametrize(
    ("raw", "safe"),
    [
        ("../../x", "x"),
        ("..\\..\\evil.pdf", "evil.pdf"),
        ("C:\\Users\\ann\\Desktop\\bill.pdf", "bill.pdf"),
        ("re\r\nport\x00.pdf", "report.pdf"),
        ("Set-Cookie\r\n: x.pdf", "Set-Cookie x.pdf"),
        ('a<b>c:d"e|f?g*h.pdf', "abcdefgh.pdf"),
        ("  my \t  tax   bill .pdf ", "my tax bill.pdf"),
        ("invoice\u202efdp.exe", "invoicefdp.exe"),
        ("", "attachment"),
        (".", "attachment"),
        ("..", "attachment"),
        ("../", "attachment"),
        ("\x00\r\n", "attachment"),
        ("Dr. Smith letter", "Dr. Smith letter"),
    ],
)
def test_safe_display_name(raw, safe):
    assert safe_display_name(raw) == safe


def test_long_name_is_capped_but_keeps_its_extension():
    safe = safe_display_name("a" * 300 + ".pdf")
    assert len(safe) == 120
    assert safe.endswith("aaa.pdf")


def test_size_message_names_the_limit_in_megabytes():
    message = rejected("big.pdf", PDF + bytes(11 * MB), max_bytes=LIMIT)
    assert message == "This file is larger than the 10 MB limit."
