"""The domain: pure values and rules, no I/O and no plugin calls."""
