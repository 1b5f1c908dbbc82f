"""``desk.customers``: customers as records, with their sites and contacts.

A record is found by its id, by the ``key`` the integrator gives it (an ERP number), or by
its name (compared ignoring case and spacing). Each key and name is held by one record: the
store keeps an index aggregate per key (``customer-key``) and per name (``customer-name``),
written in the record's transaction, so two desks creating one customer at once cannot both
succeed. A second customer of the same name needs a key to tell it apart.
"""

from __future__ import annotations

import builtins
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import attrs

from aftersales.core import values
from aftersales.core.boundary import public_api
from aftersales.core.convert import from_dict, to_dict
from aftersales.core.errors import ConflictError, NotFound, ValidationError
from aftersales.core.installed_base import CHANNELS_PREFERRED, Contact, CustomerRecord, Site
from aftersales.core.model import Customer
from aftersales.core.permissions import permit
from aftersales.core.values import shown
from aftersales.ports.storage import EventWriter, event_record
from aftersales.services.basis import Basis
from aftersales.services.ids import uuid7
from aftersales.services.repository import Repository
from aftersales.services.staff import StaffDirectory

KIND = "customer"
KEY_INDEX = "customer-key"
NAME_INDEX = "customer-name"


def name_key(name: str) -> str:
    """A name as customers are matched by it: case and spacing ignored."""
    return " ".join(name.split()).casefold()


def _sites(value: Any, who: str) -> tuple[Site, ...]:
    out: list[Site] = []
    for item in values.items(value or [], f"{who}: sites"):
        site = item if isinstance(item, Site) else _mapping(Site, item, f"{who}: a site")
        sid = values.name(site.id, f"{who}: a site's id")
        zone = values.name(site.timezone, f"{who}: site {sid}'s time zone", required=False)
        if zone is not None:
            try:
                ZoneInfo(zone)
            except (ZoneInfoNotFoundError, ValueError):
                raise ValidationError(
                    f"{who}: site {sid}'s time zone {shown(zone)} is not an IANA zone "
                    "(Asia/Shanghai, Europe/Berlin)"
                ) from None
        if any(s.id == sid for s in out):
            raise ValidationError(f"{who}: the site {shown(sid)} is listed twice")
        out.append(
            Site(
                sid,
                values.text(site.address, f"{who}: site {sid}'s address", required=False),
                values.name(site.region, f"{who}: site {sid}'s region", required=False),
                zone,
            )
        )
    return tuple(out)


def _contacts(value: Any, who: str) -> tuple[Contact, ...]:
    out: list[Contact] = []
    for item in values.items(value or [], f"{who}: contacts"):
        c = item if isinstance(item, Contact) else _mapping(Contact, item, f"{who}: a contact")
        name = values.name(c.name, f"{who}: a contact's name")
        channel = values.name(c.channel, f"{who}: {name}'s channel", required=False)
        if channel is not None and channel not in CHANNELS_PREFERRED:
            raise ValidationError(
                f"{who}: {name}'s channel {shown(channel)} is not one of "
                + ", ".join(CHANNELS_PREFERRED)
            )
        email = values.email(c.email, f"{who}: {name}'s e-mail")
        out.append(
            Contact(
                name,
                values.name(c.role, f"{who}: {name}'s role", required=False),
                values.name(c.phone, f"{who}: {name}'s phone", required=False),
                email,
                values.name(c.language, f"{who}: {name}'s language", required=False),
                channel,
                values.flag(c.consent, f"{who}: {name}'s consent"),
            )
        )
    return tuple(out)


def customer_of(record: CustomerRecord) -> Customer:
    """A case's customer as the record gives it."""
    return Customer(record.name, record.tier, record.region, record.id, record.key)


def _mapping(cls: type[Any], item: Any, what: str) -> Any:
    if not isinstance(item, Mapping):
        raise ValidationError(f"{what} is a mapping, not {type(item).__name__}")
    fields = {f.name for f in attrs.fields(cls)}
    unknown = sorted(set(map(str, item)) - fields)
    if unknown:
        raise ValidationError(
            f"{what}: unknown field {', '.join(map(repr, unknown))}; fields: "
            + ", ".join(sorted(fields))
        )
    try:
        return cls(**item)
    except TypeError as exc:
        raise ValidationError(f"{what}: {exc}") from None


@public_api("desk.customers")
class CustomerService:
    """Customer records: add, update, find by id, key or name."""

    def __init__(self, basis: Basis, *, staff: StaffDirectory) -> None:
        self._basis = basis
        self._staff = staff
        self._records = Repository(basis.storage, KIND, CustomerRecord, "customer")

    # -- reading -------------------------------------------------------------------------------
    def get(self, id: str) -> CustomerRecord:
        """The customer ``id``; NotFound if there is none."""
        return self._records.get(id)

    def find(self, id: str) -> CustomerRecord | None:
        return self._records.find(id)

    def by_key(self, key: str) -> CustomerRecord | None:
        """The customer the integrator's ``key`` names (None: none)."""
        return self._indexed(KEY_INDEX, values.key(key, "customer key"))

    def by_name(self, name: str) -> CustomerRecord | None:
        """The customer of this name, case and spacing ignored (None: none)."""
        return self._indexed(NAME_INDEX, name_key(values.key(name, "customer name")))

    def _indexed(self, index: str, value: str) -> CustomerRecord | None:
        entry = self._basis.storage.get(index, value)
        return None if entry is None else self._records.find(entry.data["customer"])

    def list(self) -> builtins.list[CustomerRecord]:
        """Every customer, by id."""
        return self._records.all()

    def match(self, customer: Customer) -> CustomerRecord | None:
        """The record a case's customer names: by id, else by key, else by name."""
        if customer.id:
            found = self.find(customer.id)
            if found is not None:
                return found
        if customer.key:
            found = self.by_key(customer.key)
            if found is not None:
                return found
        return self.by_name(customer.name)

    def history(self, id: str) -> builtins.list[dict[str, Any]]:
        """The record's events, oldest first."""
        self.get(id)
        return self._records.events(id)

    # -- writing -------------------------------------------------------------------------------
    def add(
        self,
        *,
        name: str,
        by: str,
        id: str | None = None,
        key: str | None = None,
        tier: str | None = None,
        region: str | None = None,
        sites: Iterable[Site | Mapping[str, Any]] = (),
        contacts: Iterable[Contact | Mapping[str, Any]] = (),
        at: datetime | None = None,
    ) -> CustomerRecord:
        """Record a customer (a service agent or manager). ``id`` defaults to a new one;
        ConflictError if the id, the key or (without a key) the name is taken."""
        permit(self._staff.actor(by), "customers.add", "record customers")
        record = self.checked(
            name=name, id=id, key=key, tier=tier, region=region, sites=sites, contacts=contacts
        )
        when = self._basis.at(at)
        with self._basis.storage.transaction() as tx:
            self.create(tx, record, by, when)
        return record

    def checked(
        self,
        *,
        name: Any,
        id: Any = None,
        key: Any = None,
        tier: Any = None,
        region: Any = None,
        sites: Any = (),
        contacts: Any = (),
    ) -> CustomerRecord:
        """A new record from its parts, each checked (not stored)."""
        cid = values.name(id, "customer id", required=False) or f"C-{uuid7()[-12:]}"
        who = f"customer {cid}"
        return CustomerRecord(
            cid,
            values.name(name, f"{who}: name"),
            values.name(tier, f"{who}: tier", required=False),
            values.name(region, f"{who}: region", required=False),
            values.name(key, f"{who}: key", required=False),
            _sites(sites, who),
            _contacts(contacts, who),
            version=1,
        )

    def create(self, tx: EventWriter, record: CustomerRecord, who: str, at: datetime) -> None:
        """Write a new record and its index entries in ``tx`` (``who`` acts: checked by the
        caller); ConflictError naming what is taken."""
        taken = self._taken(tx, record)
        if taken:
            raise ConflictError(taken)
        event = event_record(1, "added", who, at, {})
        tx.append(KIND, record.id, 0, [event], to_dict(record))
        entry = {"customer": record.id}
        if record.key is not None:
            tx.append(KEY_INDEX, record.key, 0, [event], entry)
        if record.key is None or tx.get(NAME_INDEX, name_key(record.name)) is None:
            tx.append(NAME_INDEX, name_key(record.name), 0, [event], entry)

    def create_or_match(
        self, tx: EventWriter, record: CustomerRecord, who: str, at: datetime
    ) -> CustomerRecord:
        """:meth:`create`, unless another writer has meanwhile stored the customer ``record``
        stands for (its id, its key or, without a key, its name): then that record, as this
        transaction reads it. Two desks taking a new customer's first calls at once both
        file their cases under one record."""
        for kind, value in (
            (KIND, record.id),
            (KEY_INDEX, record.key),
            (NAME_INDEX, None if record.key is not None else name_key(record.name)),
        ):
            if value is None:
                continue
            found = tx.get(kind, value)
            if found is not None:
                stored = found if kind == KIND else tx.get(KIND, found.data["customer"])
                if stored is not None:
                    return from_dict(CustomerRecord, stored.data)
        self.create(tx, record, who, at)
        return record

    def _taken(self, tx: EventWriter, record: CustomerRecord) -> str | None:
        if tx.get(KIND, record.id) is not None:
            return f"there is already a customer {shown(record.id)}"
        if record.key is not None:
            entry = tx.get(KEY_INDEX, record.key)
            if entry is not None:
                return f"the key {shown(record.key)} is customer {shown(entry.data['customer'])}'s"
        elif (other := tx.get(NAME_INDEX, name_key(record.name))) is not None:
            return (
                f"there is already a customer named {shown(record.name)} "
                f"({other.data['customer']}); give this one a key= to tell them apart"
            )
        return None

    def update(
        self,
        id: str,
        *,
        by: str,
        tier: Any = ...,
        region: Any = ...,
        sites: Any = ...,
        contacts: Any = ...,
        at: datetime | None = None,
    ) -> CustomerRecord:
        """Change a customer's tier, region, sites or contacts (those given; ``None`` clears
        tier or region). Cases keep the customer as they were reported."""
        permit(self._staff.actor(by), "customers.update", "change customer records")
        before = self.get(id)
        who = f"customer {id}"
        changes: dict[str, Any] = {}
        if tier is not ...:
            changes["tier"] = values.name(tier, f"{who}: tier", required=False)
        if region is not ...:
            changes["region"] = values.name(region, f"{who}: region", required=False)
        if sites is not ...:
            changes["sites"] = _sites(sites, who)
        if contacts is not ...:
            changes["contacts"] = _contacts(contacts, who)
        if not changes:
            raise ValidationError("update needs tier=, region=, sites= or contacts=")
        after = attrs.evolve(before, **changes, version=before.version + 1)
        shown_changes = {k: to_dict(after)[k] for k in changes}
        return self._records.save(before, after, "updated", by, self._basis.at(at), shown_changes)

    def add_contract(self, tx: EventWriter, id: str, contract: str, who: str, at: datetime) -> None:
        """Note a new contract on its customer's record, in ``tx``."""
        stored = tx.get(KIND, id)
        if stored is None:
            raise NotFound(f"no customer {shown(id)}")
        before = from_dict(CustomerRecord, stored.data)
        after = attrs.evolve(
            before, contracts=(*before.contracts, contract), version=stored.version + 1
        )
        event = event_record(after.version, "contract_added", who, at, {"contract": contract})
        tx.append(KIND, id, stored.version, [event], to_dict(after))


__all__ = ["CustomerService", "customer_of", "name_key"]
