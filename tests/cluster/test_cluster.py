"""Redress on several hosts (make test-cluster): three nodes in network namespaces behind
HAProxy, one PostgreSQL primary and its streaming standby behind PgBouncer in transaction
mode, one Redis (harness.py). Needs root; `make test` leaves it out (the `cluster` marker).

Beat runs once, on node 1. Two beats at once are harmless as well:
tests/integration/test_two_beats.py proves it.
"""

import os
import subprocess
import time
from datetime import timedelta

import pytest

from tests.cluster.driver import LOAD_PREFIX, Load, complaint_body, signed_in
from tests.cluster.harness import PYTHON, ROOT, Cluster, wait_for

pytestmark = pytest.mark.cluster
REPLICA_PIN_SECONDS = 3


@pytest.fixture(scope="module")
def cluster():
    if os.geteuid() != 0:
        pytest.fail("The cluster test makes network namespaces: run it as root (make test-cluster)")
    with Cluster(nodes=3, env={"REPLICA_PIN_SECONDS": str(REPLICA_PIN_SECONDS)}) as running:
        yield running


def export_of(session, cluster):
    answer = session.get(f"{cluster.url}/complaints/export.csv", timeout=30)
    assert answer.status_code == 200, answer.text[:500]
    return answer.text


def api_complaint(session, cluster, key):
    answer = session.post(
        f"{cluster.url}/api/v1/complaints/",
        json=complaint_body(cluster.seed["category"], key),
        headers={"Authorization": f"Token {cluster.seed['token']}", "Idempotency-Key": key},
        timeout=30,
    )
    assert answer.status_code == 201, answer.text[:500]
    return answer.json()["reference"]


def test_exports_read_the_replica_and_whoever_wrote_reads_the_primary(cluster):
    managers, password = cluster.seed["managers"], cluster.seed["password"]
    reader = signed_in(cluster.url, managers[0], password)
    writer = signed_in(cluster.url, managers[1], password)
    time.sleep(REPLICA_PIN_SECONDS + 0.5)  # the sign-in's own pin has passed
    # Replication lag, made as long as we like: the standby stops replaying what it receives.
    cluster.sql("standby", "SELECT pg_wal_replay_pause()")
    try:
        reference = api_complaint(writer, cluster, "lag-test-1")
        # The writer's POST pinned it to the primary: its export has the complaint...
        assert reference in export_of(writer, cluster)
        # ...while another manager's export, read from the standby, does not yet: proof that
        # the export reads the replica, through PgBouncer in transaction mode.
        assert reference not in export_of(reader, cluster)
    finally:
        cluster.sql("standby", "SELECT pg_wal_replay_resume()")
    wait_for(lambda: reference in export_of(reader, cluster), "the standby catching up", 30)
    time.sleep(REPLICA_PIN_SECONDS + 0.5)
    assert reference in export_of(writer, cluster)  # from the standby now


def sent_and_waiting(cluster):
    rows = cluster.sql(
        "primary",
        "SELECT status, count(*) FROM complaints_outboundmessage GROUP BY status",
        database="redress",
    )
    return dict(rows)


def relay_as_if_later(cluster, delay):
    """The outbox relay, run as it will run `delay` from now: a message claimed by the killed
    worker is taken back only after OUTBOX_STALE_CLAIM_SECONDS, longer than this test waits."""
    code = (
        "import django; django.setup(); from datetime import timedelta; "
        "from django.utils import timezone; from complaints import services; "
        f"print(services.outbox_relay(timezone.now() + timedelta(seconds={delay})))"
    )
    env = {**cluster.env(), "DATABASE_URL": cluster.primary_url}
    env.pop("DATABASE_REPLICA_URL")
    env["DJANGO_SETTINGS_MODULE"] = "config.settings"
    return subprocess.run(
        [PYTHON, "-c", code], cwd=ROOT, env=env, check=True, capture_output=True, text=True
    ).stdout


def test_a_web_node_and_a_worker_killed_mid_run_lose_nothing_and_double_nothing(cluster):
    victim_web, victim_worker = cluster.nodes[1], cluster.nodes[2]
    lag = []
    with Load(cluster.url, cluster.seed, writers=3, readers=4) as load:
        time.sleep(10)
        cluster.kill(victim_web.web)
        killed_at = time.monotonic()
        time.sleep(8)
        cluster.kill(victim_worker.worker)
        for _ in range(14):
            time.sleep(1)
            lag += cluster.sql(
                "primary",
                "SELECT extract(epoch FROM replay_lag) FROM pg_stat_replication",
            )
    tally = load.tally
    print(
        f"\n{sum(tally.done.values())} requests: {dict(tally.done)}; "
        f"{len(tally.failures)} failed; replica lag up to "
        f"{max((row[0] or 0) for row in lag) * 1000:.0f} ms"
    )
    assert cluster.haproxy_servers()[f"node{victim_web.number}"].startswith("DOWN")

    retryable = [failure for failure in tally.failures if not failure.begun]
    assert retryable == [], f"requests the balancer should have retried failed: {retryable}"
    begun = [failure for failure in tally.failures if failure.begun]
    assert all(0 <= failure.at - killed_at < 5 for failure in begun), begun
    assert len(tally.created) > 20, "too few complaints logged to prove anything"

    # No complaint lost, none logged twice by a retried POST.
    logged = cluster.sql(
        "primary",
        "SELECT customer_email, reference FROM complaints_complaint WHERE customer_email LIKE %s",
        [f"{LOAD_PREFIX}%"],
        database="redress",
    )
    assert sorted(logged) == sorted(
        (f"{key}@example.com", reference) for key, reference in tally.created.items()
    )

    # Every acknowledgment sent once: the relay (every minute, from beat) sends what the
    # killed worker's queue held.
    wait_for(
        lambda: set(sent_and_waiting(cluster)) <= {"sent", "sending"},
        "the outbox emptying",
        timeout=150,
        interval=2,
    )
    if "sending" in sent_and_waiting(cluster):
        relay_as_if_later(cluster, timedelta(minutes=11).total_seconds())
    assert set(sent_and_waiting(cluster)) == {"sent"}
    received = cluster.smtp.by_message_id
    doubled = {message_id: count for message_id, count in received.items() if count > 1}
    assert doubled == {}
    acknowledged = cluster.sql(
        "primary",
        "SELECT count(*) FROM complaints_outboundmessage m JOIN complaints_complaint c "
        "ON c.id = m.complaint_id WHERE m.kind = 'acknowledgment' AND m.status = 'sent' "
        "AND c.customer_email LIKE %s",
        [f"{LOAD_PREFIX}%"],
        database="redress",
    )[0][0]
    assert acknowledged == len(tally.created)
    assert len(received) == sent_and_waiting(cluster)["sent"]


# What the CSV export does, .iterator() over the complaints through PgBouncer, with another
# client taking a server connection in a transaction after the first chunk, as another
# request would under load. PgBouncer hands out its most recently used server connection
# first: the one the iterator has just used.
ITERATE = """
import django, os, psycopg
django.setup()
from complaints.models import Complaint
rows = Complaint.objects.values_list("reference").iterator(chunk_size=2)
count, other = 0, None
for _ in rows:
    count += 1
    if count == 1:
        other = psycopg.connect(os.environ["DATABASE_URL"])
        other.execute("SELECT 1")  # a transaction, held open
print(count)
"""


def iterate_through_pgbouncer(cluster, behind_pgbouncer):
    env = {
        **cluster.env(),
        "DB_BEHIND_PGBOUNCER": behind_pgbouncer,
        "DJANGO_SETTINGS_MODULE": "config.settings",
    }
    return subprocess.run(
        [PYTHON, "-c", ITERATE], cwd=ROOT, env=env, capture_output=True, text=True, check=False
    )


def test_the_export_iterates_through_pgbouncer_only_without_server_side_cursors(cluster):
    with_setting = iterate_through_pgbouncer(cluster, "1")
    assert with_setting.returncode == 0, with_setting.stderr
    assert int(with_setting.stdout) > 2  # more than one chunk
    # Without it, Django's server-side cursor is declared on one server connection and the
    # next chunk is fetched from another: the setting is what makes the export work.
    without = iterate_through_pgbouncer(cluster, "0")
    assert without.returncode != 0
    assert "does not exist" in without.stderr, without.stderr[-1000:]
