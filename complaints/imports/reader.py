"""Reading a CFPB CSV file: plain or gzip, decoded as UTF-8, parsed as CSV, as a stream.

Memory is bounded by the batch, not the file. The rows are read and mapped in a thread of
their own one batch ahead, while the database writes the last one. A file that turns out to
be damaged part-way (cut short, not UTF-8, a wrong header) raises ImportFailed, so the
caller's transaction takes back what it wrote.
"""

import csv
import gzip
import io
import queue
import threading
import zlib
from contextlib import contextmanager
from dataclasses import dataclass

from complaints.imports.mapper import CFPB_COLUMNS, RowError
from complaints.imports.report import ImportFailed

BATCH_SIZE = 2000


class CfpbFile:
    """A CFPB CSV file (a path or a binary file object), its header checked on opening."""

    def __init__(self, source):
        with _read_to_the_end():
            self.lines = Lines(open_text(source))
            # strict: a file cut inside a quoted narrative is an error, not a short last row.
            self.reader = csv.reader(self.lines, strict=True)
            try:
                header = next(self.reader, None)
            except UnicodeDecodeError as error:
                raise _not_utf8(error, self.reader.line_num) from error
        if header is None:
            raise ImportFailed("The file is empty; nothing was imported.")
        header = [name.strip() for name in header]
        if tuple(header) != CFPB_COLUMNS:
            missing = [c for c in CFPB_COLUMNS if c not in header]
            raise ImportFailed(
                "This is not a CFPB complaints file: the header does not match"
                + (f" (missing: {', '.join(missing)})" if missing else " (columns out of order)")
                + ". Nothing was imported."
            )

    @contextmanager
    def batches(self, mapper):
        """The file's rows in batches, checked and mapped by `mapper` one batch ahead."""
        with (
            _read_to_the_end(),
            _read_ahead(_read_batches(self.reader, self.lines, mapper)) as batches,
        ):
            yield batches


@contextmanager
def _read_to_the_end():
    """ImportFailed for a file the decompressor, the decoder or the CSV parser cannot read."""
    try:
        yield
    except (EOFError, zlib.error, gzip.BadGzipFile, csv.Error, UnicodeDecodeError) as error:
        raise ImportFailed(
            f"The file could not be read to the end ({type(error).__name__}: {error}). "
            "It may be truncated or damaged; nothing was imported."
        ) from error


class Lines:
    """The lines of a text stream, as csv.reader reads them, noting whether the last one
    ended with a line break: a file that stops in the middle of a row does not."""

    def __init__(self, text):
        self.text = text
        self.complete = True

    def __iter__(self):
        line = ""
        for line in self.text:
            yield line
        self.complete = not line or line[-1] in "\r\n"


def open_text(path_or_file):
    """A text stream over a plain or gzip file, read as it goes."""
    raw = open(path_or_file, "rb") if isinstance(path_or_file, str) else path_or_file  # noqa: SIM115
    start = raw.read(2)
    raw.seek(0)
    if start == b"\x1f\x8b":
        raw = gzip.GzipFile(fileobj=raw)
    return io.TextIOWrapper(raw, encoding="utf-8-sig", newline="")


@dataclass
class Batch:
    read: int  # rows read, bad ones included
    rejects: list  # (line, reason)
    rows: list  # checked rows, each Complaint ID once


def _read_batches(reader, lines, mapper):
    """The file's rows, checked and mapped, a batch per BATCH_SIZE rows read.

    A file whose last row is short and not ended by a line break was cut off in the middle
    of that row: ImportFailed, raised before that row's batch is handed on, so the caller's
    transaction takes back the batches already written.
    """
    rows, rejects, read = {}, [], 0
    last = ()
    try:
        for values in reader:
            if not values:
                continue  # a blank line is not a row
            last = values
            read += 1
            line = reader.line_num
            try:
                row = mapper.row(values)
            except RowError as error:
                rejects.append((line, str(error)))
            else:
                # A repeat within a batch is refused here; one in a later batch finds the
                # first in the database and counts as unchanged, so memory stays bounded by
                # the batch.
                if row.external_reference in rows:
                    rejects.append((line, f"Complaint ID {row.complaint_id} appears twice"))
                else:
                    rows[row.external_reference] = row
            if read == BATCH_SIZE:
                yield Batch(read, rejects, list(rows.values()))
                rows, rejects, read = {}, [], 0
                mapper.new_day()
    except UnicodeDecodeError as error:
        raise _not_utf8(error, reader.line_num) from error
    if not lines.complete and len(last) < len(CFPB_COLUMNS):
        raise ImportFailed(
            f"The file ends in the middle of a row (line {reader.line_num} has "
            f"{len(last)} of {len(CFPB_COLUMNS)} columns and no line break): it looks "
            "truncated. Nothing was imported; export or copy the whole file and try again."
        )
    if read:
        yield Batch(read, rejects, list(rows.values()))


def _not_utf8(error, lines_read):
    """ImportFailed for a file that is not UTF-8, naming the line of the first bad byte.

    The text stream decodes a chunk at a time, once the reader has taken every whole line
    before it: the bad byte is on the next line, or as many later as there are line breaks
    in the chunk before it.
    """
    if error.reason == "unexpected end of data" and error.end == len(error.object):
        return ImportFailed(
            "The file ends in the middle of a character: it looks truncated. "
            "Nothing was imported; export or copy the whole file and try again."
        )
    line = lines_read + 1 + error.object[: error.start].count(b"\n")
    return ImportFailed(
        f"The file is not UTF-8 text (line {line} has a byte UTF-8 does not allow, "
        "perhaps an accented letter saved as Latin-1 or Windows-1252). "
        'Save it as "CSV UTF-8" and import it again. Nothing was imported.'
    )


_END = object()


@contextmanager
def _read_ahead(items):
    """Iterate over `items` produced in a thread of their own, at most one ahead.

    Reading and mapping rows is Python's work and writing a batch mostly the database's, so
    with the next batch made while the last one is written the two overlap. The thread
    touches no database: the caller's connection and transaction stay the caller's alone.
    An exception in the thread (a damaged file) is raised in the caller.
    """
    handoff = queue.Queue(maxsize=1)
    stop = threading.Event()

    def hand(item, error=None):
        while not stop.is_set():
            try:
                handoff.put((item, error), timeout=0.1)
                return True
            except queue.Full:
                pass
        return False

    def produce():
        try:
            for item in items:
                if not hand(item):
                    return
            hand(_END)
        except BaseException as error:  # raised again in the caller
            hand(None, error)

    def receive():
        while True:
            item, error = handoff.get()
            if error is not None:
                raise error
            if item is _END:
                return
            yield item

    thread = threading.Thread(target=produce, name="cfpb-import-reader", daemon=True)
    thread.start()
    try:
        yield receive()
    finally:
        stop.set()
        thread.join()
