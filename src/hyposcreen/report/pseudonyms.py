"""Keyed pseudonyms for patient-level audit exports (HMAC-SHA256).

The key comes from the environment (HYPOSCREEN_PSEUDONYM_KEY) or a secret file given with
--key-file, never from the repository: the same patient and key give the same pseudonym across
runs, and without the key nobody can link a pseudonym back to a patient id.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import sys
from pathlib import Path

import pandas as pd

from hyposcreen.errors import ConfigError

KEY_ENV = "HYPOSCREEN_PSEUDONYM_KEY"
MIN_KEY_BYTES = 16
PREFIX = "ps-"
DIGEST_CHARS = 24  # 96 bits: no collisions in practice for hospital-sized populations


def _checkout_root() -> Path | None:
    """The source checkout this package runs from, if any (a key file must not live there)."""
    root = Path(__file__).resolve().parents[3]
    return root if (root / ".git").exists() else None


def load_key(key_file: Path | None = None) -> bytes | None:
    """The pseudonym key: --key-file first, else the environment variable; None when neither."""
    if key_file is not None:
        if not key_file.is_file():
            raise ConfigError(f"Pseudonym key file {key_file} does not exist.")
        root = _checkout_root()
        if root is not None and key_file.resolve().is_relative_to(root):
            raise ConfigError(
                f"Pseudonym key file {key_file} lies inside the source checkout; keep the key "
                "outside the repository (e.g. /etc/hyposcreen/pseudonym.key, mode 0600)."
            )
        if key_file.stat().st_mode & 0o077:
            print(
                f"hyposcreen: warning: pseudonym key file {key_file} is readable by others; "
                "chmod 600 it.",
                file=sys.stderr,
            )
        key = key_file.read_bytes().strip()
    else:
        text = os.environ.get(KEY_ENV, "")
        if not text:
            return None
        key = text.strip().encode("utf-8")
    if len(key) < MIN_KEY_BYTES:
        raise ConfigError(
            f"The pseudonym key is too short ({len(key)} bytes); use at least {MIN_KEY_BYTES} "
            "random bytes, e.g. `openssl rand -hex 32`."
        )
    return key


def pseudonym(patient_id: str, key: bytes) -> str:
    digest = hmac.new(key, patient_id.encode("utf-8"), hashlib.sha256).hexdigest()
    return PREFIX + digest[:DIGEST_CHARS]


def pseudonymize(patient_ids: pd.Series, key: bytes) -> pd.Series:
    mapping = {pid: pseudonym(str(pid), key) for pid in patient_ids.unique()}
    return patient_ids.map(mapping).astype("str")
