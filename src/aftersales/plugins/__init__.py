"""The built-in plugins: storage backends, notifiers, policy functions and metrics. Each
imports the contract (:mod:`aftersales.ports`) exactly as a third-party plugin does, and is
listed in :data:`aftersales.ports.manager.DEFAULT_PLUGINS`."""
