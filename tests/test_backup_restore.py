"""The restore drill of docs/data-protection.md: back up with pg_dump and a tar of the
attachments folder, restore both into a fresh database and folder, and verify the record
there. Committed data (a transactional test), real binaries, a real manage.py."""

import hashlib
import os
import subprocess
import sys
import tarfile

import psycopg
import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from psycopg import sql

from complaints import services
from complaints.services.record import record_chain_extend
from complaints.services.retention import complaints_anonymise
from tests import factories
from tests.complaints.test_retention import PDF

pytestmark = pytest.mark.django_db(transaction=True)


def server(dbname):
    db = connection.settings_dict
    return psycopg.connect(
        host=db["HOST"], port=db["PORT"] or 5432, user=db["USER"], dbname=dbname, autocommit=True
    )


def url(dbname):
    db = connection.settings_dict
    return f"postgres://{db['USER']}@{db['HOST']}:{db['PORT'] or 5432}/{dbname}"


@pytest.fixture
def fresh_database():
    name = f"{connection.settings_dict['NAME']}_restore"
    with server("postgres") as admin:
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    yield name
    with server("postgres") as admin:
        admin.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


def test_a_backup_restores_into_a_fresh_database_with_an_intact_record(
    csr, resolver, manager, tmp_path, fresh_database
):
    case = factories.complaint_at_stage("follow_up", csr=csr, resolver=resolver, manager=manager)
    attachment = services.attachment_add(
        case, actor=csr, upload=SimpleUploadedFile("statement.pdf", PDF, "application/pdf")
    )
    other = factories.complaint_at_stage(
        "reviewed", csr=csr, resolver=resolver, manager=manager, customer_email="b@example.com"
    )
    record_chain_extend()
    complaints_anonymise([other.pk], reason="restore drill")
    record_chain_extend()

    # The backup, as docs/data-protection.md gives it.
    dump = tmp_path / "redress.dump"
    subprocess.run(
        ["pg_dump", "--format=custom", f"--file={dump}", url(connection.settings_dict["NAME"])],
        check=True,
    )
    archive = tmp_path / "attachments.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(settings.ATTACHMENT_ROOT, arcname=".")

    # The restore, into a database and a folder that never saw the data.
    subprocess.run(
        ["pg_restore", "--no-owner", "--exit-on-error", f"--dbname={url(fresh_database)}", dump],
        check=True,
    )
    restored = tmp_path / "restored-attachments"
    restored.mkdir()
    with tarfile.open(archive) as tar:
        tar.extractall(restored, filter="data")
    copy = restored / attachment.stored_name[:2] / attachment.stored_name
    assert hashlib.sha256(copy.read_bytes()).hexdigest() == attachment.sha256

    environment = {
        **os.environ,
        "DATABASE_URL": url(fresh_database),
        "ATTACHMENT_ROOT": str(restored),
        "SECRET_KEY": settings.SECRET_KEY,
        "DEBUG": "1",
    }
    check = subprocess.run(
        [sys.executable, "manage.py", "verify_record", "--no-chain"],
        cwd=settings.BASE_DIR,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert check.returncode == 0, check.stdout + check.stderr
    assert "The record is intact: 2 cases" in check.stdout

    # And the drill would notice a restore that lost or changed a row.
    with server(fresh_database) as restored_db:
        restored_db.execute("UPDATE complaints_note SET text = 'changed in the backup'")
    check = subprocess.run(
        [sys.executable, "manage.py", "verify_record", "--no-chain"],
        cwd=settings.BASE_DIR,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert check.returncode != 0 and "changed after it was recorded" in check.stdout
