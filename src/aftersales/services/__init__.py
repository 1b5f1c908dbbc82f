"""The application layer: the desk and its services, the only code that calls plugins."""

from aftersales.services.desk import ServiceDesk

__all__ = ["ServiceDesk"]
