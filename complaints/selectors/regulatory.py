"""The regulatory catalogue: what every intake reads to check its choices and start its clocks,
from the cache rather than the database.

The profiles with their products, their clock definitions with theirs and their calendars,
the firm's closures, and the active categories and products the intake forms offer. They
change a few times a year (in the admin, by a migration, by the demo seed or an import) and
every intake reads them, so they are read from the database once per change and kept in
Django's cache (Redis in production) under a version token. A change to any of those rows
replaces the token (the signals connected in apps.py), so the next intake in every process
reads them afresh; each process keeps the current version's copy in memory, so an intake
costs one cache read for the token and no query.
"""

import logging
import secrets
from dataclasses import dataclass

from django.core.cache import cache
from django.db import transaction
from django.db.models import Q

from complaints.clocks import engine
from complaints.models import (
    BusinessCalendar,
    Category,
    ClockDefinition,
    Holiday,
    Product,
    RegulatoryProfile,
)

log = logging.getLogger(__name__)

VERSION_KEY = "regulatory-catalogue:version"
COPY_KEY = "regulatory-catalogue:{version}"
# A change no signal sees (SQL by hand, a queryset update, a rolled-back transaction that an
# intake read inside) is read again within this many seconds.
LIFETIME = 15 * 60

# Every model whose rows the catalogue holds: a save or delete of any replaces the version.
MODELS = (BusinessCalendar, RegulatoryProfile, ClockDefinition, Holiday, Category, Product)
# And the product conditions of profiles and definitions (many-to-many).
PRODUCT_CONDITIONS = (RegulatoryProfile.products.through, ClockDefinition.products.through)


@dataclass
class Catalogue:
    # The active profiles and the default, each with `product_ids` and its calendar.
    profiles: list
    # Profile id -> its clock definitions, each with `product_ids`, its profile and calendar.
    definitions: dict
    # The firm's closures: (date, calendar id or None for every calendar).
    closures: list
    # Id -> the active categories and products (sub-categories and sub-products too), by name.
    categories: dict
    products: dict

    def profile_for(self, *, product_id, country):
        return engine.choose_profile(self.profiles, product_id=product_id, country=country)

    def definitions_of(self, profile):
        return self.definitions.get(profile.pk, [])


def regulatory_catalogue():
    """The catalogue as the database holds it now (as of the last change the signals saw)."""
    global _copy
    try:
        version = cache.get_or_set(VERSION_KEY, _new_version, LIFETIME)
        if _copy[0] == version:
            return _copy[1]
        catalogue = cache.get(COPY_KEY.format(version=version))
    except Exception as error:  # noqa: BLE001  (a cache outage must not stop an intake)
        log.warning("Regulatory catalogue read from the database, the cache failing: %s", error)
        return _read()
    if catalogue is None:
        catalogue = _read()
        try:
            cache.set(COPY_KEY.format(version=version), catalogue, LIFETIME)
        except Exception as error:  # noqa: BLE001  (this process keeps its copy all the same)
            log.warning("Regulatory catalogue not cached, the cache failing: %s", error)
    _copy = (version, catalogue)
    return catalogue


# This process's copy: (version, catalogue). Replaced whole, never changed in place.
_copy = (None, None)


def _new_version():
    return secrets.token_hex(8)


def regulatory_catalogue_changed(**_signal):
    """Replace the version now, so this transaction's next intake reads its own change, and
    again once it commits: a copy another process read meanwhile, without the change, is
    then dropped too. A signal receiver; also called by writers that bypass signals."""
    regulatory_catalogue_forget()
    transaction.on_commit(regulatory_catalogue_forget)


def regulatory_catalogue_forget():
    """Replace the version: every process reads the catalogue afresh at its next intake."""
    try:
        cache.delete(VERSION_KEY)
    except Exception as error:  # noqa: BLE001  (the change itself stands; LIFETIME bounds it)
        log.warning("Regulatory catalogue version not replaced, the cache failing: %s", error)


def _read():
    calendars = BusinessCalendar.objects.in_bulk()
    profiles = list(RegulatoryProfile.objects.filter(Q(active=True) | Q(is_default=True)))
    for profile in profiles:
        profile.calendar = calendars[profile.calendar_id]
        profile.product_ids = set()
    by_pk = {profile.pk: profile for profile in profiles}
    for profile_id, product_id in RegulatoryProfile.products.through.objects.filter(
        regulatoryprofile_id__in=by_pk
    ).values_list("regulatoryprofile_id", "product_id"):
        by_pk[profile_id].product_ids.add(product_id)
    definitions = {pk: [] for pk in by_pk}
    by_definition = {}
    for definition in ClockDefinition.objects.filter(profile__in=by_pk):
        definition.profile = by_pk[definition.profile_id]
        definition.calendar = calendars.get(definition.calendar_id)
        definition.product_ids = set()
        definitions[definition.profile_id].append(definition)
        by_definition[definition.pk] = definition
    for definition_id, product_id in ClockDefinition.products.through.objects.filter(
        clockdefinition_id__in=by_definition
    ).values_list("clockdefinition_id", "product_id"):
        by_definition[definition_id].product_ids.add(product_id)
    return Catalogue(
        profiles=profiles,
        definitions=definitions,
        closures=list(Holiday.objects.order_by("pk").values_list("date", "calendar_id")),
        categories={c.pk: c for c in Category.objects.filter(active=True)},
        products={p.pk: p for p in Product.objects.filter(active=True)},
    )
