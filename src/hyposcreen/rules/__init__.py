"""Rules data and its loader."""
