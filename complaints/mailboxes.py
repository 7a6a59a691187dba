"""Where inbound email is fetched from: IMAP mailboxes (imap-tools) and a drop folder of .eml
files. Infrastructure like the outbox: it knows servers and files, not complaints.

Each message is handed to `receive` (the inbound service), which stores it in a transaction
of its own; only once that has returned is the message moved or flagged on the server and
the mailbox's last UID advanced. A worker that dies in between leaves the message where it
was: the next poll fetches it again and the service, which stores a Message-ID once per
mailbox, finds it already stored. Nothing is lost and nothing is stored twice.
"""

import logging
import os
import time
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.db.models import Q
from django.utils import timezone
from imap_tools import AND, MailBox, MailBoxStartTls, MailBoxUnencrypted, MailMessageFlags

from complaints.models import MailboxState

log = logging.getLogger(__name__)
# Per mailbox and run: beat polls every minute, so a backlog drains in a few runs without one
# run holding its claim for long.
BATCH = 500
DROP_FOLDER = "drop"


class MailboxUnavailable(Exception):
    """The server could not be reached or refused us; the next run tries again."""


def _claim(name, now):
    """Take the mailbox for this run, or None if a live worker has it."""
    MailboxState.objects.get_or_create(name=name)
    taken = MailboxState.objects.filter(
        Q(claimed_until__isnull=True) | Q(claimed_until__lt=now), name=name
    ).update(claimed_until=now + timedelta(seconds=settings.INBOUND_CLAIM_SECONDS))
    return MailboxState.objects.get(name=name) if taken == 1 else None


def _release(name, error=""):
    MailboxState.objects.filter(name=name).update(
        claimed_until=None, last_polled_at=timezone.now(), last_error=error[:300]
    )


@contextmanager
def _connected(config):
    timeout = settings.INBOUND_IMAP_TIMEOUT
    if config["ssl"]:
        client = MailBox(config["host"], config["port"], timeout=timeout)
    elif config["starttls"]:
        client = MailBoxStartTls(config["host"], config["port"], timeout=timeout)
    else:
        client = MailBoxUnencrypted(config["host"], config["port"], timeout=timeout)
    with client.login(config["username"], config["password"], initial_folder=config["folder"]):
        yield client


def _raw(mailbox, uid, *, headers_only):
    section = "BODY.PEEK[HEADER]" if headers_only else "BODY.PEEK[]"
    status, data = mailbox.client.uid("FETCH", uid, f"({section})")
    for item in data if status == "OK" else ():
        if isinstance(item, tuple) and len(item) == 2:
            return item[1]
    return None


def imap_poll(config, receive, *, now=None):
    """Fetch what is new in one IMAP mailbox; `receive(raw, mailbox=, too_large=)` stores each
    message. Returns what happened, for the jobs page."""
    now = now or timezone.now()
    name = config["name"]
    state = _claim(name, now)
    if state is None:
        return {"skipped": "another worker is reading this mailbox"}
    stored, error = 0, ""
    try:
        with _connected(config) as mailbox:
            validity = int(mailbox.folder.status(config["folder"], ["UIDVALIDITY"])["UIDVALIDITY"])
            # A new UIDVALIDITY means the server renumbered the folder: read it all again;
            # what was stored before is recognised by its Message-ID.
            last_uid = state.last_uid if state.uid_validity == validity else 0
            # "UID n:*" always answers with the newest message, even below n.
            uids = [
                uid for uid in mailbox.uids(AND(uid=f"{last_uid + 1}:*")) if int(uid) > last_uid
            ][:BATCH]
            sizes = (
                {
                    message.uid: message.size_rfc822
                    for message in mailbox.fetch(
                        uid_list=uids, headers_only=True, mark_seen=False, bulk=100
                    )
                }
                if uids
                else {}
            )
            for uid in uids:
                too_large = sizes.get(uid, 0) > settings.INBOUND_MESSAGE_MAX_BYTES
                raw = _raw(mailbox, uid, headers_only=too_large)
                if raw is None:
                    continue  # expunged by someone else meanwhile
                receive(raw, mailbox=name, too_large=too_large)
                if config["processed_folder"]:
                    mailbox.move(uid, config["processed_folder"])
                else:
                    mailbox.flag(uid, MailMessageFlags.SEEN, True)
                MailboxState.objects.filter(name=name).update(
                    uid_validity=validity, last_uid=int(uid)
                )
                stored += 1
    except (OSError, MailboxUnavailable) as problem:
        error = f"{type(problem).__name__}: {problem}"
        log.warning("Mailbox %s not read: %s", name, error)
    except Exception as problem:  # noqa: BLE001  (imap-tools' own errors: the next run retries)
        if not type(problem).__module__.startswith("imap_tools"):
            _release(name, f"{type(problem).__name__}")
            raise
        error = f"{type(problem).__name__}: {problem}"
        log.warning("Mailbox %s not read: %s", name, error)
    _release(name, error)
    return {"stored": stored, "error": error} if error else {"stored": stored}


def drop_folder_poll(folder, receive, *, stale_after=timedelta(minutes=10)):
    """Read the .eml files put in `folder` (the demo's mailbox on the embedded default).

    A file is claimed by renaming it into processing/ (atomic, so two workers never take the
    same one), stored, then moved into done/. A file left in processing/ by a worker that died
    is taken back after `stale_after` and stored once, by its Message-ID.
    """
    folder = Path(folder)
    processing, done = folder / "processing", folder / "done"
    for sub in (processing, done):
        sub.mkdir(parents=True, exist_ok=True)
    cutoff = time.time() - stale_after.total_seconds()
    for left in processing.glob("*.eml"):
        if left.stat().st_mtime < cutoff:
            os.replace(left, folder / left.name)
    stored = 0
    for path in sorted(folder.glob("*.eml"))[:BATCH]:
        claimed = processing / path.name
        try:
            os.replace(path, claimed)
        except FileNotFoundError:
            continue  # another worker took it
        os.utime(claimed)  # the claim's age counts from now, not from when the file was written
        raw = claimed.read_bytes()
        too_large = len(raw) > settings.INBOUND_MESSAGE_MAX_BYTES
        receive(raw, mailbox=DROP_FOLDER, too_large=too_large)
        os.replace(claimed, done / claimed.name)
        stored += 1
    return {"stored": stored}
