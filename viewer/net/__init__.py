"""net: no Qt here (house rule 1, docs/architecture.md)."""
