"""The seeded regulators' response clocks (FCA, FCA payments, ASIC, ASIC super, CFPB) stop
only on the response sent that meets them and on their exits and closing: a proposed
resolution without the checked final response (ombudsman wording, leaflet) no longer meets
them. The house profile's resolution targets keep the proposal (docs/clocks.md)."""

from django.db import migrations

from complaints.clocks import catalogue as clocks


def forwards(apps, schema_editor):
    clocks.regulator_proposal_stops_seed(apps)


def backwards(apps, schema_editor):
    clocks.regulator_proposal_stops_seed(apps, restore=True)


class Migration(migrations.Migration):
    dependencies = [("complaints", "0035_indexes_no_query_reads")]

    operations = [migrations.RunPython(forwards, backwards)]
