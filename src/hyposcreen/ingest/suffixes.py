"""What a delivered file is, told by its name's suffix in any letter case: `MEASUREMENT.CSV.GZ`
and `LABS.PARQUET` (as Windows exports name them) are gzip and Parquet as their lower-case
twins are. Every reader asks these, so no test of a suffix is case-sensitive."""

from __future__ import annotations

from pathlib import Path


def gzipped(path: Path) -> bool:
    """Whether `path` is a gzip file by its name (`.gz`)."""
    return path.name.lower().endswith(".gz")


def parquet(path: Path) -> bool:
    """Whether `path` is a Parquet file by its name (`.parquet`)."""
    return path.name.lower().endswith(".parquet")
