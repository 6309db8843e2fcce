"""Input adapters: each turns one source layout into the canonical tables of spec §1."""
