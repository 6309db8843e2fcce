"""Keyed pseudonyms for patient-level audit exports (HMAC-SHA256).

The key comes from the environment (HYPOSCREEN_PSEUDONYM_KEY) or a secret file given with
--key-file, never from the repository: the same patient and key give the same pseudonym across
runs, and without the key nobody can link a pseudonym back to a patient id.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import string
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from hyposcreen.errors import ConfigError

KEY_ENV = "HYPOSCREEN_PSEUDONYM_KEY"
MIN_KEY_BYTES = 32
MIN_DISTINCT_CHARACTERS = 8
PREFIX = "ps-"
DIGEST_CHARS = 24  # 96 bits: no collisions in practice for hospital-sized populations


def _checkout_root() -> Path | None:
    """The source checkout this package runs from, if any (a key file must not live there)."""
    root = Path(__file__).resolve().parents[3]
    return root if (root / ".git").exists() else None


def load_key(key_file: Path | None = None, data_folders: Sequence[Path] = ()) -> bytes | None:
    """The pseudonym key: --key-file first, else the environment variable; None when neither.

    Refused (ConfigError) when the file is readable by group or others, lies in the source
    checkout or inside one of `data_folders` (the run's --input and --out: a key copied along
    with the data or the outputs protects nothing), or holds fewer than 32 random bytes.
    """
    if key_file is not None:
        _check_key_file(key_file, data_folders)
        key = key_file.read_bytes().strip()
    else:
        text = os.environ.get(KEY_ENV, "")
        if not text:
            return None
        key = text.strip().encode("utf-8")
    strength = key_strength(key)
    if strength < MIN_KEY_BYTES:
        raise ConfigError(
            f"The pseudonym key is too short or not random enough ({strength} random bytes); "
            f"use at least {MIN_KEY_BYTES} random bytes, e.g. `openssl rand -hex 32`."
        )
    return key


def _check_key_file(key_file: Path, data_folders: Sequence[Path]) -> None:
    if not key_file.is_file():
        raise ConfigError(f"Pseudonym key file {key_file} does not exist.")
    resolved = key_file.resolve()
    root = _checkout_root()
    if root is not None and resolved.is_relative_to(root):
        raise ConfigError(
            f"Pseudonym key file {key_file} lies inside the source checkout; keep the key "
            "outside the repository (e.g. /etc/hyposcreen/pseudonym.key, mode 0600)."
        )
    for folder in data_folders:
        if resolved.is_relative_to(Path(folder).resolve()):
            raise ConfigError(
                f"Pseudonym key file {key_file} lies inside {folder}, a data or output folder; "
                "keep the key apart from what it protects (e.g. /etc/hyposcreen/pseudonym.key)."
            )
    if key_file.stat().st_mode & 0o077:
        raise ConfigError(
            f"Pseudonym key file {key_file} is readable by group or others; "
            f"`chmod 600 {key_file}` and try again."
        )


def key_strength(key: bytes) -> int:
    """Random bytes a key holds: hex text counts half its length; a key of few distinct
    characters (`aaaa...`, `0101...`) counts as none."""
    if len(set(key)) < MIN_DISTINCT_CHARACTERS:
        return 0
    text = key.decode("ascii", errors="replace")
    if len(text) % 2 == 0 and all(c in string.hexdigits for c in text):
        return len(text) // 2
    return len(key)


def pseudonym(patient_id: str, key: bytes) -> str:
    digest = hmac.new(key, patient_id.encode("utf-8"), hashlib.sha256).hexdigest()
    return PREFIX + digest[:DIGEST_CHARS]


def pseudonymize(patient_ids: pd.Series, key: bytes) -> pd.Series:
    mapping = {pid: pseudonym(str(pid), key) for pid in patient_ids.unique()}
    return patient_ids.map(mapping).astype("str")
