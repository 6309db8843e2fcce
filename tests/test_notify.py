"""Notifications against a real SMTP server (aiosmtpd) and a real HTTP receiver on 127.0.0.1."""

from __future__ import annotations

import csv
import json
import socket
import threading
from collections.abc import Iterator
from email import message_from_bytes, policy
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from hyposcreen.cli import main
from hyposcreen.errors import ConfigError, InputError
from hyposcreen.notify.settings import load_notifications
from hyposcreen.state import StateStore

SAMPLE = Path(__file__).resolve().parents[1] / "sample_data" / "canonical"
WINDOW = ["--window-start", "2026-11-20T00:00:00", "--window-end", "2026-11-21T00:00:00"]
URL_ENV = "HYPOSCREEN_TEST_WEBHOOK_URL"


class _Inbox:
    def __init__(self) -> None:
        self.messages: list[Any] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def smtp() -> Iterator[tuple[int, _Inbox]]:
    inbox = _Inbox()
    port = _free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield port, inbox
    finally:
        controller.stop()


@pytest.fixture
def receiver() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    received: list[dict[str, Any]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append(json.loads(body))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hook", received
    finally:
        server.shutdown()
        server.server_close()


def _mapping(tmp_path: Path, smtp_port: int, summary: bool = False) -> Path:
    path = tmp_path / "site.yaml"
    path.write_text(
        "site: ward7\n"
        "notifications:\n"
        f"  summary: {'true' if summary else 'false'}\n"
        "  email:\n"
        "    host: 127.0.0.1\n"
        f"    port: {smtp_port}\n"
        "    sender: hyposcreen@example.org\n"
        "    to: [ward-lead@example.org]\n"
        "  webhook:\n"
        f"    url_env: {URL_ENV}\n"
        "    style: teams\n",
        encoding="utf-8",
    )
    return path


def _identifiers() -> set[str]:
    found: set[str] = set()
    for path in SAMPLE.glob("*.csv"):
        with path.open(newline="", encoding="utf-8") as handle:
            for row in csv.DictReader(handle):
                found |= {row[c] for c in ("patient_id", "mrn", "name") if row.get(c)}
    return found


def test_a_failing_run_sends_the_failure_email_and_webhook(
    tmp_path: Path,
    smtp: tuple[int, _Inbox],
    receiver: tuple[str, list[dict[str, Any]]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    port, inbox = smtp
    url, received = receiver
    monkeypatch.setenv(URL_ENV, url)
    empty = tmp_path / "extract"
    empty.mkdir()
    argv = ["run", "--no-flow", "--input", str(empty), *WINDOW, "--out", str(tmp_path / "out")]
    assert main([*argv, "--mapping", str(_mapping(tmp_path, port))]) == InputError.exit_code
    [mail] = inbox.messages
    assert mail["To"] == "ward-lead@example.org"
    assert mail["Subject"].startswith("[hyposcreen] FAILED: site ward7, 2026-11-20")
    assert "InputError" in mail.get_content()
    [card] = received
    assert card["@type"] == "MessageCard" and card["title"] == mail["Subject"]
    assert "InputError" in card["text"]


@pytest.mark.flow
def test_a_failing_scheduled_run_alerts_from_the_flow(
    prefect_harness: None,
    tmp_path: Path,
    smtp: tuple[int, _Inbox],
    receiver: tuple[str, list[dict[str, Any]]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A deployment run has no CLI around it: the flow itself sends the alerts and keeps the
    failed night in the state."""
    from flows.nightly import nightly_screen

    port, inbox = smtp
    url, received = receiver
    monkeypatch.setenv(URL_ENV, url)
    empty = tmp_path / "extract"
    empty.mkdir()
    state = nightly_screen(
        input=str(empty),
        out=str(tmp_path / "out"),
        window_start="2026-11-20T00:00:00",
        window_end="2026-11-21T00:00:00",
        mapping=str(_mapping(tmp_path, port)),
        state_dir=str(tmp_path / "state"),
        return_state=True,
    )
    assert state.is_failed()
    [mail] = inbox.messages
    assert mail["Subject"].startswith("[hyposcreen] FAILED: site ward7, 2026-11-20")
    assert len(received) == 1 and "InputError" in received[0]["text"]
    [failed] = StateStore(tmp_path / "state", "ward7").failures().to_dict("records")
    assert (failed["window_start"], failed["error_type"]) == ("2026-11-20T00:00:00", "InputError")


def test_a_clean_night_sends_the_morning_summary_without_identifiers(
    tmp_path: Path,
    smtp: tuple[int, _Inbox],
    receiver: tuple[str, list[dict[str, Any]]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    port, inbox = smtp
    url, received = receiver
    monkeypatch.setenv(URL_ENV, url)
    out = tmp_path / "out"
    argv = ["run", "--no-flow", "--input", str(SAMPLE), *WINDOW, "--out", str(out)]
    status = main([*argv, "--mapping", str(_mapping(tmp_path, port, summary=True))])
    assert status in (0, 4)  # 4: screened with warnings (then that is the message)
    [mail] = inbox.messages
    body = mail.get_content()
    assert "35 case(s) listed (urgent 5, soon 13, routine 17)" in body
    assert str(out / "2026-11-20") in body
    assert len(received) == 1
    texts = [body, mail["Subject"], json.dumps(received)]
    assert {i for i in _identifiers() for text in texts if i in text} == set()


def test_a_notification_that_cannot_be_sent_keeps_the_exit_status(
    tmp_path: Path, capfd: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Nobody listens on the SMTP port and the webhook URL is unset: the run still exits 3."""
    monkeypatch.delenv(URL_ENV, raising=False)
    port = _free_port()
    argv = ["run", "--no-flow", "--input", str(tmp_path), *WINDOW, "--out", str(tmp_path / "o")]
    assert main([*argv, "--mapping", str(_mapping(tmp_path, port))]) == InputError.exit_code
    err = capfd.readouterr().err
    assert "the failure e-mail was not sent" in err
    assert "the failure webhook was not sent" in err
    assert "Traceback" not in err


def test_a_notification_not_sent_names_the_server_and_the_variable_to_set(
    tmp_path: Path, capfd: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A new site's first run with a mistyped port and the webhook's variable not exported:
    the lines said "[Errno 111] Connection refused" and "The webhook URL is missing or not an
    http(s) URL", naming neither the server nor the variable to set. They name both now."""
    monkeypatch.delenv(URL_ENV, raising=False)
    port = _free_port()
    argv = ["run", "--no-flow", "--input", str(tmp_path), *WINDOW, "--out", str(tmp_path / "o")]
    assert main([*argv, "--mapping", str(_mapping(tmp_path, port))]) == InputError.exit_code
    err = " ".join(capfd.readouterr().err.split())
    assert f"the SMTP server 127.0.0.1:{port} did not answer" in err
    assert f"the environment variable {URL_ENV} (url_env) is not set" in err


def test_a_username_without_its_password_is_told_not_sent_unauthenticated(
    tmp_path: Path,
    smtp: tuple[int, _Inbox],
    capfd: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`username` set and the variable `password_env` names not exported (the unit's
    EnvironmentFile= forgotten): the login was skipped without a word and the mail sent
    unauthenticated, which a relay that needs the login refuses in its own terms. The run
    now tells the password missing by its variable, and sends no mail without it."""
    port, inbox = smtp
    monkeypatch.delenv("HYPOSCREEN_TEST_SMTP_PASSWORD", raising=False)
    mapping = _mapping(tmp_path, port)
    text = mapping.read_text(encoding="utf-8").replace(
        "    to: [ward-lead@example.org]\n",
        "    to: [ward-lead@example.org]\n    username: hyposcreen\n"
        "    password_env: HYPOSCREEN_TEST_SMTP_PASSWORD\n",
    )
    mapping.write_text(text, encoding="utf-8")
    argv = ["run", "--no-flow", "--input", str(tmp_path), *WINDOW, "--out", str(tmp_path / "o")]
    assert main([*argv, "--mapping", str(mapping)]) == InputError.exit_code
    err = " ".join(capfd.readouterr().err.split())
    assert "the failure e-mail was not sent: notifications.email.username is set" in err
    assert "HYPOSCREEN_TEST_SMTP_PASSWORD (password_env) is not set" in err
    assert inbox.messages == []


def test_a_catch_up_stopped_at_a_later_night_tells_the_nights_before_and_which_failed(
    tmp_path: Path,
    smtp: tuple[int, _Inbox],
    receiver: tuple[str, list[dict[str, Any]]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Nights 20-22 backfilled; 21 is screened with warnings (a partial delivery against 20),
    22 cannot be written. The alert said only "FAILED: ... the planned night", named --out
    as the folder, and never told that night 21 should not be trusted; now night 21's
    warnings go out first, then the failure named by its night and folder."""
    port, inbox = smtp
    url, received = receiver
    monkeypatch.setenv(URL_ENV, url)
    out = tmp_path / "out"
    out.mkdir()
    (out / "2026-11-22").write_text("not a folder\n", encoding="utf-8")
    argv = ["run", "--no-flow", "--input", str(SAMPLE), "--out", str(out)]
    argv += ["--backfill", "2026-11-20", "2026-11-22", "--state-dir", str(tmp_path / "state")]
    assert main([*argv, "--mapping", str(_mapping(tmp_path, port))]) == 75
    subjects = [mail["Subject"] for mail in inbox.messages]
    assert subjects == [
        "[hyposcreen] screened with warnings: site ward7, 2026-11-21T00:00:00",
        "[hyposcreen] FAILED: site ward7, 2026-11-22T00:00:00",
    ]
    assert "partial delivery" in inbox.messages[0].get_content()
    assert f"Output folder: {out / '2026-11-22'} " in inbox.messages[1].get_content()
    assert [card["title"] for card in received] == subjects


@pytest.mark.parametrize(
    ("written", "told"),
    [
        ("{url}?token=SE CRET", "The webhook URL holds a space"),
        ("http://127.0.0.1:80x/hook?token=SECRET", "The webhook URL's port"),
    ],
    ids=["space", "port_not_a_number"],
)
def test_a_webhook_url_with_a_space_keeps_the_exit_status_and_its_token(
    written: str,
    told: str,
    tmp_path: Path,
    smtp: tuple[int, _Inbox],
    receiver: tuple[str, list[dict[str, Any]]],
    capfd: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A URL pasted with a space inside: urllib raised http.client.InvalidURL, which the
    sending did not catch, so a run that failed with exit 3 ended as an internal error (70),
    and the debug text quoted the URL's token. The webhook is told as not sent, by a text that
    does not repeat the URL; the e-mail goes out and the run keeps its status. A port that is
    not a number raises the same error, and is told as what it is."""
    port, inbox = smtp
    url, received = receiver
    monkeypatch.setenv(URL_ENV, written.format(url=url))
    empty = tmp_path / "extract"
    empty.mkdir()
    argv = ["run", "--no-flow", "--input", str(empty), *WINDOW, "--out", str(tmp_path / "out")]
    assert main([*argv, "--mapping", str(_mapping(tmp_path, port))]) == InputError.exit_code
    err = capfd.readouterr().err
    assert f"the failure webhook was not sent: {told}" in err
    assert "CRET" not in err and "internal error" not in err
    assert len(inbox.messages) == 1 and received == []


def test_settings_are_strict_and_keep_secrets_out_of_the_file(tmp_path: Path) -> None:
    path = tmp_path / "site.yaml"
    path.write_text("notifications:\n  webhook:\n    url: https://x.example/hook\n")
    with pytest.raises(ConfigError, match="Secrets are never inline"):
        load_notifications(path)
    path.write_text("notifications:\n  email:\n    host: h\n    sender: a@b\n    to: c@d\n")
    assert load_notifications(path).email is not None
    path.write_text("notifications:\n  pager: true\n")
    with pytest.raises(ConfigError, match="unknown key"):
        load_notifications(path)
    secret = tmp_path / "smtp.pw"
    secret.write_text("pw")
    secret.chmod(0o644)
    path.write_text(
        f"notifications:\n  email:\n    host: h\n    sender: a@b\n    to: c@d\n"
        f"    password_file: {secret}\n"
    )
    email = load_notifications(path).email
    assert email is not None
    with pytest.raises(ConfigError, match="readable by others"):
        email.password()
