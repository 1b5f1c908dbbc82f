"""Plugins: the hook specifications, the plugin manager, and the built-in backends."""

from aftersales.plugins.hookspecs import hookimpl

__all__ = ["hookimpl"]
