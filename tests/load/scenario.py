"""Who takes part in the load test and what the load database must hold for them.

Shared by seed_load.py (which creates it) and locustfile.py (which uses it); plain Python,
no Django and no locust, so either can import it.
"""

import os

PASSWORD = os.environ.get("DEMO_PASSWORD", "redress-demo")

# Several accounts per role, so each simulated person has their own queue and session.
# Simulated users beyond these counts share accounts (each still signs in on its own).
CSR_ACCOUNTS = [f"load-csr-{n:02d}" for n in range(1, 25)]
RESOLVER_ACCOUNTS = [f"load-resolver-{n:02d}" for n in range(1, 13)]
MANAGER_ACCOUNTS = [f"load-manager-{n:02d}" for n in range(1, 5)]
SEEDER_ACCOUNT = "load-seeder"

# The unassigned intake queue is cut into buckets, one per simulated CSR: a complaint's
# description carries its bucket's word, and a CSR takes complaints only from its own
# bucket (found with the search box), so two simulated CSRs never race for the same one.
# A real race is answered with a 404, which the load test would count as an error.
BUCKETS = 64
INTAKE_PER_BUCKET = 25
TEAM_POOL = 200  # escalated to the resolution team, unassigned
PER_RESOLVER = 8  # investigating, assigned to each resolver account
PER_CSR = 5  # acknowledged, assigned to each CSR account
MANAGER_POOL = 40  # escalated to the managers


def bucket_word(bucket):
    return f"loadbucket{bucket:02d}"
