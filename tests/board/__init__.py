"""挂图作战 and 销号 (DOMAIN.md §7): items, plans, closures, verification, spot checks."""
