"""``aftersales customers``: customer records, their sites and contacts."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import click

from aftersales.cli.arguments import done
from aftersales.cli.context import AT_OPTION, BY_OPTION, action_time, open_desk
from aftersales.cli.output import FORMAT, JSON_OPTION, emit, print_json
from aftersales.core.errors import NotFound, ValidationError


@click.group()
def customers() -> None:
    """Customer records: list, show, add, update."""


@customers.command("list")
@FORMAT
def customers_list(fmt: str) -> None:
    """Every customer: tier, region, sites, contacts and contracts."""
    with open_desk() as desk:
        rows = (
            (c.id, c.name, c.key, c.tier, c.region, len(c.sites), len(c.contacts),
             ", ".join(c.contracts))
            for c in desk.customers.list()
        )  # fmt: skip
        columns = ("id", "name", "key", "tier", "region", "sites", "contacts", "contracts")
        emit("customers", columns, rows, fmt)


@customers.command("show")
@click.argument("ref", metavar="CUSTOMER")
@JSON_OPTION
def customers_show(ref: str, as_json: bool) -> None:
    """One customer (by id, key or name), with its sites, contacts and machines."""
    with open_desk() as desk:
        record = _find(desk, ref)
        machines = desk.machines.list(customer=record.id)
        if as_json:
            print_json(record)
            return
        click.echo(f"{record.name} ({record.id})  tier {record.tier or '-'}, "
                   f"region {record.region or '-'}, key {record.key or '-'}")  # fmt: skip
        for site in record.sites:
            click.echo(f"  site {site.id}: {site.address or '-'} ({site.region or '-'}"
                       f"{', ' + site.timezone if site.timezone else ''})")  # fmt: skip
        for c in record.contacts:
            consent = "may be contacted" if c.consent else "no consent"
            click.echo(f"  contact {c.name} ({c.role or '-'}): {c.phone or '-'}, "
                       f"{c.email or '-'}; prefers {c.channel or '-'}; {consent}")  # fmt: skip
        click.echo(f"  contracts: {', '.join(record.contracts) or '-'}")
        click.echo(f"  machines: {', '.join(m.serial for m in machines) or '-'}")


def _find(desk: Any, ref: str) -> Any:
    found = desk.customers.find(ref) or desk.customers.by_key(ref) or desk.customers.by_name(ref)
    if found is None:
        raise NotFound(f"no customer with the id, key or name {ref!r}")
    return found


def _json_list(text: str | None, option: str) -> list[Any] | None:
    if text is None:
        return None
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValidationError(
            f"{option}: not JSON ({exc.msg}); write a list of objects, "
            f'e.g. \'[{{"id": "Q1", "address": "Quarry 1"}}]\''
        ) from None
    if not isinstance(value, list):
        raise ValidationError(f"{option} is a JSON list of objects")
    return value


@customers.command("add")
@click.option("--name", required=True)
@click.option("--id", "customer_id", default=None, help="Default: a new id.")
@click.option("--key", default=None, help="The integrator's key (an ERP number).")
@click.option("--tier", default=None)
@click.option("--region", default=None)
@click.option("--sites", default=None, help='JSON: [{"id": "Q1", "address": "...", ...}]')
@click.option(
    "--contacts", default=None, help='JSON: [{"name": "Wang", "phone": "...", "consent": true}]'
)
@BY_OPTION
@AT_OPTION
@JSON_OPTION
def customers_add(name: str, customer_id: str | None, key: str | None, tier: str | None,
                  region: str | None, sites: str | None, contacts: str | None, by: str,
                  at: str | None, as_json: bool) -> None:  # fmt: skip
    """Record a customer."""
    with open_desk() as desk:
        record = desk.customers.add(name=name, id=customer_id, key=key, tier=tier, region=region,
                                    sites=_json_list(sites, "--sites") or (),
                                    contacts=_json_list(contacts, "--contacts") or (),
                                    by=by, at=action_time(desk, at))  # fmt: skip
        done(as_json, record, f"customer {record.id} recorded: {record.name}")


@customers.command("update")
@click.argument("customer_id", metavar="ID")
@click.option("--tier", default=None)
@click.option("--region", default=None)
@click.option("--sites", default=None, help="JSON list: replaces the sites.")
@click.option("--contacts", default=None, help="JSON list: replaces the contacts.")
@BY_OPTION
@AT_OPTION
@JSON_OPTION
def customers_update(customer_id: str, tier: str | None, region: str | None,
                     sites: str | None, contacts: str | None, by: str, at: str | None,
                     as_json: bool) -> None:  # fmt: skip
    """Change a customer's tier, region, sites or contacts."""
    given: dict[str, Sequence[Any] | str] = {}
    if tier is not None:
        given["tier"] = tier
    if region is not None:
        given["region"] = region
    for option, text in (("sites", sites), ("contacts", contacts)):
        listed = _json_list(text, f"--{option}")
        if listed is not None:
            given[option] = listed
    with open_desk() as desk:
        record = desk.customers.update(customer_id, by=by, at=action_time(desk, at), **given)
        done(as_json, record, f"customer {record.id} updated")
