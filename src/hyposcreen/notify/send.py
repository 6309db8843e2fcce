"""Sending a message by e-mail (stdlib smtplib) and webhook (stdlib urllib, JSON POST).

`deliver` never raises: each channel that failed is returned as one line for stderr or the
flow run's log, and the run's exit status stays what it was.
"""

from __future__ import annotations

import http.client
import json
import smtplib
import ssl
import urllib.request
from email.message import EmailMessage

from hyposcreen.errors import ConfigError, HyposcreenError
from hyposcreen.notify.messages import (
    SUMMARY,
    WARNINGS,
    Message,
    failure_message,
    outcome_message,
)
from hyposcreen.notify.settings import EmailSettings, NotificationSettings, WebhookSettings

_COLOURS = {"failure": "C50F1F", "warnings": "F2C200", "summary": "2E7D32"}


def wanted(settings: NotificationSettings, event: str) -> bool:
    """Failures and warnings always go out; the summary only when `summary: true`."""
    return settings.enabled and (event != SUMMARY or settings.summary)


def deliver(settings: NotificationSettings, message: Message) -> list[str]:
    """Send `message` on every configured channel; returns the problems (empty: all sent)."""
    if not wanted(settings, message.event):
        return []
    problems = []
    for name, send in (("e-mail", _email), ("webhook", _webhook)):
        channel = settings.email if name == "e-mail" else settings.webhook
        if channel is None:
            continue
        try:
            send(channel, message)  # type: ignore[arg-type]
        except (
            OSError,
            smtplib.SMTPException,
            http.client.HTTPException,  # a receiver that hung up, a status line it garbled
            HyposcreenError,
            ValueError,
        ) as exc:
            problems.append(f"the {message.event} {name} was not sent: {_one_line(exc)}")
    return problems


def _email(settings: EmailSettings, message: Message) -> None:
    mail = EmailMessage()
    mail["Subject"] = message.subject
    mail["From"] = settings.sender
    mail["To"] = ", ".join(settings.to)
    mail.set_content(message.text)
    password = settings.password()
    try:
        smtp = smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout)
    except OSError as exc:  # refused, unknown host, timed out: name the server the mapping gives
        raise OSError(
            f"the SMTP server {settings.host}:{settings.port} did not answer ({_one_line(exc)}); "
            "check notifications.email host and port"
        ) from exc
    with smtp:
        if settings.starttls:
            smtp.starttls(context=ssl.create_default_context())
        if settings.username and password:
            smtp.login(settings.username, password)
        smtp.send_message(mail)


def webhook_payload(style: str, message: Message) -> dict[str, object]:
    if style == "slack":
        return {"text": f"*{message.subject}*\n{message.text}"}
    return {  # Teams incoming webhook: MessageCard
        "@type": "MessageCard",
        "@context": "https://schema.org/extensions",
        "summary": message.subject,
        "themeColor": _COLOURS.get(message.event, "2E7D32"),
        "title": message.subject,
        "text": "<br>".join(message.lines),
    }


def _webhook(settings: WebhookSettings, message: Message) -> None:
    body = json.dumps(webhook_payload(settings.style, message)).encode("utf-8")
    request = urllib.request.Request(  # noqa: S310 - the site's own configured http(s) URL
        settings.url(), data=body, headers={"Content-Type": "application/json"}, method="POST"
    )
    try:
        opened = urllib.request.urlopen(request, timeout=settings.timeout)  # noqa: S310
    except http.client.InvalidURL:  # its text quotes the URL, token and all
        raise ConfigError(_invalid_url(settings.url())) from None
    with opened as response:
        if response.status >= 300:
            raise OSError(f"the receiver answered HTTP {response.status}")


def _invalid_url(url: str) -> str:
    """Why http.client refused the URL, in words that do not repeat it (it may hold a token)."""
    if any(char.isspace() or not char.isprintable() for char in url):
        return (
            "The webhook URL holds a space or a control character (a line break pasted into "
            "it?); write it on one line without spaces."
        )
    return (
        "The webhook URL's port (after the host's ':') is not a number; write it as "
        "https://host:8443/path, or leave the port out."
    )


def _one_line(error: BaseException) -> str:
    return " ".join(str(error).split())[:300] or type(error).__name__


def notify_outcomes(
    settings: NotificationSettings, site: str, outcomes: list[dict[str, object]]
) -> list[str]:
    """After a run: "screened with warnings" for each window that had warnings, else the
    morning summary (when configured)."""
    problems: list[str] = []
    for counts in outcomes:
        event = WARNINGS if counts.get("warnings") else SUMMARY
        problems += deliver(settings, outcome_message(site, counts, event))
    return problems


def notify_failure(
    settings: NotificationSettings, site: str, record: dict[str, object], out_dir: str | None
) -> list[str]:
    return deliver(settings, failure_message(site, record, out_dir))
