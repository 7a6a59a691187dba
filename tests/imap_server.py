"""A real IMAP server on loopback for the mailbox tests: Debian's Dovecot (`dovecot-imapd`,
installed by `make test-deps`), run as an unprivileged process with a configuration of its
own in a temporary folder, holding one mailbox, `redress`, with a Processed folder."""

import getpass
import grp
import os
import pwd
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from imap_tools import MailBoxUnencrypted

from tests.integration.conftest import free_port

DOVECOT = Path("/usr/sbin/dovecot")
USER, PASSWORD = "redress", "imap-test-password"
CONFIG = """
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain
default_internal_user = {user}
default_internal_group = {group}
default_login_user = {user}
mail_location = maildir:{root}/mail/%u
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/users
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={root}/home/%u
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service anvil {{
  chroot =
}}
service stats {{
  chroot =
}}
"""


@dataclass
class ImapServer:
    port: int
    root: Path

    def config(self, **overrides):
        """A mailbox as settings.INBOUND_MAILBOXES holds it."""
        return {
            "name": "complaints",
            "host": "127.0.0.1",
            "port": self.port,
            "ssl": False,
            "starttls": False,
            "username": USER,
            "password": PASSWORD,
            "folder": "INBOX",
            "processed_folder": "Processed",
            **overrides,
        }

    def client(self):
        return MailBoxUnencrypted("127.0.0.1", self.port, timeout=10).login(USER, PASSWORD)

    def deliver(self, *messages):
        with self.client() as mailbox:
            for raw in messages:
                mailbox.append(raw, "INBOX")

    def uids(self, folder):
        with self.client() as mailbox:
            mailbox.folder.set(folder)
            return mailbox.uids("ALL")

    def seen(self):
        with self.client() as mailbox:
            return [m.flags for m in mailbox.fetch(mark_seen=False, headers_only=True)]

    def log(self):
        path = self.root / "dovecot.log"
        return path.read_text() if path.exists() else ""


def _unprivileged():
    """Ourselves, or `nobody` when the tests run as root: Dovecot runs as no root here."""
    if os.getuid() != 0:
        return getpass.getuser(), grp.getgrgid(os.getgid()).gr_name, os.getuid(), os.getgid()
    nobody = pwd.getpwnam("nobody")
    return nobody.pw_name, grp.getgrgid(nobody.pw_gid).gr_name, nobody.pw_uid, nobody.pw_gid


@pytest.fixture
def imap_server():
    if not DOVECOT.exists():
        if os.environ.get("CI"):
            pytest.fail("Dovecot is missing: `make test-deps` installs dovecot-imapd.")
        pytest.skip("Dovecot is not installed (make test-deps installs dovecot-imapd)")
    # Not under pytest's own temporary folder, which only its owner may enter.
    root = Path(tempfile.mkdtemp(prefix="redress-dovecot-"))
    user, group, uid, gid = _unprivileged()
    port = free_port()
    (root / "dovecot.conf").write_text(
        CONFIG.format(root=root, user=user, group=group, uid=uid, gid=gid, port=port)
    )
    (root / "users").write_text(f"{USER}:{{PLAIN}}{PASSWORD}\n")
    for path in [root, *root.iterdir()]:
        shutil.chown(path, uid, gid)
    process = subprocess.Popen(  # noqa: S603  (a fixed command line of our own)
        [str(DOVECOT), "-F", "-c", str(root / "dovecot.conf")],
        **({"user": uid, "group": gid, "extra_groups": []} if os.getuid() == 0 else {}),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    server = ImapServer(port, root)
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                with server.client() as mailbox:
                    mailbox.folder.create("Processed")
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    output = process.stdout.read().decode(errors="replace")
                    pytest.fail(f"Dovecot did not start:\n{output}\n{server.log()}")
                time.sleep(0.1)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        shutil.rmtree(root, ignore_errors=True)
