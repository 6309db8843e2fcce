"""Prefect wiring for hyposcreen: the nightly flow (`nightly.py`) and its cron deployment."""
