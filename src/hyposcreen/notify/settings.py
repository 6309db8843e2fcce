"""The `notifications:` section of the site mapping YAML: strict keys, secrets by reference.

    notifications:
      summary: true                  # also a morning summary after each clean night
      email:
        host: smtp.example.org
        port: 587                    # default 25
        starttls: true               # default false
        sender: hyposcreen@example.org
        to: [ward-lead@example.org, on-call@example.org]
        username: hyposcreen         # optional
        password_env: HYPOSCREEN_SMTP_PASSWORD   # or password_file: /etc/hyposcreen/smtp.pw
      webhook:
        url_env: HYPOSCREEN_WEBHOOK_URL          # or url_file: /etc/hyposcreen/webhook.url
        style: teams                 # teams (MessageCard) or slack ({"text": ...})

Passwords and webhook URLs (which embed a token) are never written inline: only the name of
an environment variable or a file (readable by its owner only) that holds them.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from hyposcreen.errors import ConfigError

_TOP_KEYS = {"summary", "email", "webhook"}
_EMAIL_KEYS = {
    "host",
    "port",
    "starttls",
    "sender",
    "to",
    "username",
    "password_env",
    "password_file",
    "timeout",
}
_WEBHOOK_KEYS = {"url_env", "url_file", "style", "timeout"}
STYLES = ("teams", "slack")


@dataclass(frozen=True)
class EmailSettings:
    host: str
    sender: str
    to: tuple[str, ...]
    port: int = 25
    starttls: bool = False
    username: str | None = None
    password_env: str | None = None
    password_file: str | None = None
    timeout: float = 30.0

    def password(self) -> str | None:
        """The password to log in with; a username without one is refused, naming where the
        password was looked for (logging in was skipped, so the server refused the mail with
        its own words)."""
        password = _secret(self.password_env, self.password_file, "SMTP password")
        if self.username and not password:
            where = _not_found(self.password_env, self.password_file, "password")
            raise ConfigError(
                f"notifications.email.username is set but the SMTP password is missing: {where}."
            )
        return password


@dataclass(frozen=True)
class WebhookSettings:
    url_env: str | None = None
    url_file: str | None = None
    style: str = "teams"
    timeout: float = 30.0

    def url(self) -> str:
        url = _secret(self.url_env, self.url_file, "webhook URL")
        if not url:
            where = _not_found(self.url_env, self.url_file, "url")
            raise ConfigError(f"The webhook URL is missing: {where}.")
        if not url.startswith(("https://", "http://")):
            raise ConfigError(
                "The webhook URL does not start with https:// or http:// (it is read from "
                f"{_source(self.url_env, self.url_file)})."
            )
        return url


@dataclass(frozen=True)
class NotificationSettings:
    summary: bool = False
    email: EmailSettings | None = None
    webhook: WebhookSettings | None = None
    channels: tuple[str, ...] = field(default=())

    @property
    def enabled(self) -> bool:
        return self.email is not None or self.webhook is not None


def load_notifications(mapping_path: Path | None) -> NotificationSettings:
    """The mapping file's `notifications:` section (none: nobody is told)."""
    if mapping_path is None or not mapping_path.is_file():
        return NotificationSettings()
    try:
        raw = yaml.safe_load(mapping_path.read_text(encoding="utf-8")) or {}
    except (yaml.YAMLError, UnicodeDecodeError):
        return NotificationSettings()  # load_mapping reports the YAML or encoding error itself
    section = raw.get("notifications") if isinstance(raw, dict) else None
    if not section:
        return NotificationSettings()
    where = f"Mapping file {mapping_path}, section notifications"
    _mapping(section, _TOP_KEYS, where)
    email = _email(section.get("email"), f"{where}.email")
    webhook = _webhook(section.get("webhook"), f"{where}.webhook")
    summary = section.get("summary", False)
    if not isinstance(summary, bool):
        raise ConfigError(f"{where}: summary must be true or false.")
    channels = tuple(n for n, c in (("email", email), ("webhook", webhook)) if c is not None)
    return NotificationSettings(summary, email, webhook, channels)


def _mapping(value: Any, allowed: set[str], where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ConfigError(f"{where} must be a mapping of keys.")
    unknown = sorted(set(value) - allowed)
    if unknown:
        hint = ""
        if {"password", "url"} & set(unknown):
            hint = " Secrets are never inline: name an environment variable or a file."
        raise ConfigError(
            f"{where}: unknown key(s) {', '.join(unknown)}. Allowed: "
            f"{', '.join(sorted(allowed))}.{hint}"
        )
    return value


def _email(value: Any, where: str) -> EmailSettings | None:
    if value is None:
        return None
    spec = _mapping(value, _EMAIL_KEYS, where)
    missing = [k for k in ("host", "sender", "to") if not spec.get(k)]
    if missing:
        raise ConfigError(f"{where}: missing {', '.join(missing)}.")
    to = spec["to"] if isinstance(spec["to"], list) else [spec["to"]]
    try:
        return EmailSettings(
            host=str(spec["host"]),
            sender=str(spec["sender"]),
            to=tuple(str(t) for t in to),
            port=int(spec.get("port", 25)),
            starttls=bool(spec.get("starttls", False)),
            username=str(spec["username"]) if spec.get("username") else None,
            password_env=spec.get("password_env"),
            password_file=spec.get("password_file"),
            timeout=float(spec.get("timeout", 30)),
        )
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{where}: {exc}.") from exc


def _webhook(value: Any, where: str) -> WebhookSettings | None:
    if value is None:
        return None
    spec = _mapping(value, _WEBHOOK_KEYS, where)
    if not (spec.get("url_env") or spec.get("url_file")):
        raise ConfigError(f"{where}: give url_env (a variable name) or url_file (a path).")
    style = str(spec.get("style", "teams"))
    if style not in STYLES:
        raise ConfigError(f"{where}: style must be one of {', '.join(STYLES)}, not {style!r}.")
    try:
        timeout = float(spec.get("timeout", 30))
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{where}: timeout: {exc}.") from exc
    return WebhookSettings(spec.get("url_env"), spec.get("url_file"), style, timeout)


def _secret(env_name: str | None, file_name: str | None, what: str) -> str | None:
    """A secret from the environment variable named, else from the file named (which must not
    be readable by group or others)."""
    if env_name:
        value = os.environ.get(str(env_name), "").strip()
        if value:
            return value
    if file_name:
        path = Path(str(file_name)).expanduser()
        try:
            if path.stat().st_mode & 0o077:
                raise ConfigError(f"The {what} file {path} is readable by others; chmod 600 it.")
            return path.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ConfigError(f"The {what} file {path} cannot be read: {exc}.") from exc
    return None


def _source(env_name: str | None, file_name: str | None) -> str:
    """Where a secret is read from, by name (never its value)."""
    if env_name and os.environ.get(str(env_name), "").strip():
        return f"the environment variable {env_name}"
    return f"the file {Path(str(file_name)).expanduser()}" if file_name else "nowhere"


def _not_found(env_name: str | None, file_name: str | None, key: str) -> str:
    """Why a secret was not found, naming the variable or file the mapping gives (`key`:
    password or url, the mapping's `<key>_env` / `<key>_file`), so an operator can set it."""
    if not env_name and not file_name:
        return f"give {key}_env (a variable name) or {key}_file (a path)"
    told = []
    if env_name:
        told.append(
            f"the environment variable {env_name} ({key}_env) is not set or empty in the run's "
            "environment (the systemd unit's EnvironmentFile=, or the shell that started it)"
        )
    if file_name:
        told.append(f"the file {Path(str(file_name)).expanduser()} ({key}_file) is empty")
    return "; ".join(told)
