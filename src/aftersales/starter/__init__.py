"""Files ``aftersales init`` writes: the starter policy (the same as rules/default.policy)."""
