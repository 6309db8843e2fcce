"""The nightly stage's run-level parts: late results and what the state remembers of a run."""
