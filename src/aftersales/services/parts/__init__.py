"""``desk.parts``: the parts catalog, suppliers, locations and the stock ledger.

Every stock movement is an event of its part, written with the part's new snapshot in one
transaction that names the version it read: a movement that would take a location below
zero is refused and nothing is written, and of two movements racing for the last unit
exactly one succeeds (the other gets ConflictError, or on retry, the refusal).
"""

from __future__ import annotations

from aftersales.core.boundary import public_api
from aftersales.services.parts.base import Consumption
from aftersales.services.parts.purchasing import Purchasing
from aftersales.services.parts.stocktake import Stocktake


@public_api("desk.parts")
class PartsService(Purchasing, Stocktake):
    """``desk.parts``: the catalog (:mod:`.catalog`), the stock ledger (:mod:`.stock`),
    purchasing, stocktakes and requisitions, one object for the caller."""


__all__ = ["Consumption", "PartsService"]
