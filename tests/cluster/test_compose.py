"""docker-compose.yml's optional replica profile: a standby and PgBouncer. There is no
Docker engine (nor `docker compose`) where the tests run, so this reads the file as YAML and
checks what the cluster test proves with real processes is wired the same way."""

import configparser
import os
import subprocess

import pytest
import yaml

from tests.cluster.harness import ROOT


def compose():
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_the_replica_and_pgbouncer_start_only_with_the_replica_profile():
    services = compose()["services"]
    assert services["postgres-replica"]["profiles"] == ["replica"]
    assert services["pgbouncer"]["profiles"] == ["replica"]
    unprofiled = [name for name, service in services.items() if "profiles" not in service]
    assert {"postgres", "redis", "web", "worker", "beat", "migrate"} <= set(unprofiled)


def test_the_standby_is_copied_from_the_primary_with_pg_basebackup():
    command = " ".join(compose()["services"]["postgres-replica"]["command"])
    assert "pg_basebackup -h postgres" in command
    assert "-R" in command  # standby.signal and primary_conninfo: it follows the primary


def test_pgbouncer_pools_by_transaction_in_front_of_primary_and_replica():
    ini = configparser.ConfigParser()
    ini.read_string(compose()["configs"]["pgbouncer-ini"]["content"])
    assert ini["pgbouncer"]["pool_mode"] == "transaction"
    assert "host=postgres " in ini["databases"]["redress"]
    assert "host=postgres-replica " in ini["databases"]["redress_replica"]


def test_the_app_reads_its_database_urls_from_variables_of_its_own():
    env = compose()["x-app-env"]
    assert env["DATABASE_URL"].startswith("${REDRESS_DATABASE_URL:-postgres://")
    assert env["DATABASE_REPLICA_URL"] == "${REDRESS_DATABASE_REPLICA_URL:-}"
    assert env["DB_BEHIND_PGBOUNCER"] == "${REDRESS_DB_BEHIND_PGBOUNCER:-0}"


def _compose_client():
    """`docker compose` where the client (not an engine) is installed; None elsewhere."""
    try:
        found = subprocess.run(  # noqa: S603, S607  (a fixed command, no input)
            ["docker", "compose", "version"], capture_output=True, timeout=20, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return found if found.returncode == 0 else None


@pytest.mark.skipif(_compose_client() is None, reason="no `docker compose` client here")
@pytest.mark.parametrize("profile", [[], ["--profile", "replica"]])
def test_docker_compose_accepts_the_file(profile):
    checked = subprocess.run(  # noqa: S603, S607
        ["docker", "compose", *profile, "config", "--quiet"],
        cwd=ROOT,
        env={**os.environ, "SECRET_KEY": "x" * 50},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert checked.returncode == 0, checked.stderr
