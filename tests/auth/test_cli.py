"""`python -m app.cli create-employee | create-agent | revoke-agent | migrate`, run as an operator would."""

from __future__ import annotations

import os
import subprocess
import sys

from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from app.config import REPO_ROOT

PASSWORD = "a long enough password 42"


def _cli(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = os.environ | {"ENVIRONMENT": "test"}  # DATABASE_URL is the session's test database
    return subprocess.run(
        [sys.executable, "-m", "app.cli", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO_ROOT,
        timeout=60,
        check=False,
    )


def test_create_employee_reads_the_password_from_stdin(client: TestClient, engine: Engine) -> None:
    result = _cli("create-employee", "--email", "Ops@Example.com", "--role", "admin", stdin=PASSWORD + "\n")
    assert result.returncode == 0, result.stderr
    assert "created admin ops@example.com" in result.stdout
    assert PASSWORD not in result.stdout + result.stderr
    with engine.connect() as conn:
        stored = conn.execute(text("SELECT password_hash FROM employees")).scalar_one()
    assert stored.startswith("$argon2id$")
    assert PASSWORD not in stored
    signin = client.post("/auth/signin", json={"email": "ops@example.com", "password": PASSWORD})
    assert signin.status_code == 200
    assert signin.json()["role"] == "admin"


def test_create_employee_never_takes_the_password_from_argv(engine: Engine) -> None:
    result = _cli("create-employee", "--email", "ops@example.com", "--password", PASSWORD, stdin=PASSWORD)
    assert result.returncode == 2
    assert "unrecognized arguments" in result.stderr
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM employees")).scalar_one() == 0


def test_create_employee_refuses_weak_passwords_bad_emails_and_duplicates(engine: Engine) -> None:
    weak = _cli("create-employee", "--email", "ops@example.com", stdin="short\n")
    assert weak.returncode == 1
    assert "at least 12 characters" in weak.stderr
    bad_email = _cli("create-employee", "--email", "not-an-email", stdin=PASSWORD + "\n")
    assert bad_email.returncode == 1
    assert "invalid email" in bad_email.stderr
    assert _cli("create-employee", "--email", "ops@example.com", stdin=PASSWORD + "\n").returncode == 0
    duplicate = _cli("create-employee", "--email", "OPS@example.com", stdin=PASSWORD + "\n")
    assert duplicate.returncode == 1
    assert "already exists" in duplicate.stderr
    bad_role = _cli("create-employee", "--email", "x@example.com", "--role", "root", stdin=PASSWORD + "\n")
    assert bad_role.returncode == 2
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM employees")).scalar_one() == 1


def test_create_agent_prints_a_key_that_works(client: TestClient, engine: Engine) -> None:
    result = _cli("create-agent", "--agent-id", "shopping_bot", "--name", "Shopping bot")
    assert result.returncode == 0, result.stderr
    key = result.stdout.strip()
    assert key.startswith("amk_")
    assert "shown once" in result.stderr
    with engine.connect() as conn:
        digest = conn.execute(text("SELECT key_digest FROM agent_api_keys")).scalar_one()
    assert key not in digest  # only a digest is stored
    assert client.get("/agent/v1/merchants", headers={"X-API-Key": key}).status_code == 200
    # A second key for the same agent works alongside the first (rotation).
    second = _cli("create-agent", "--agent-id", "shopping_bot").stdout.strip()
    assert second != key
    for k in (key, second):
        assert client.get("/agent/v1/merchants", headers={"X-API-Key": k}).status_code == 200


def test_revoke_agent_shuts_out_every_key_of_that_agent(client: TestClient, engine: Engine) -> None:
    keys = [_cli("create-agent", "--agent-id", "retired_bot").stdout.strip() for _ in range(2)]
    result = _cli("revoke-agent", "--agent-id", "retired_bot")
    assert result.returncode == 0, result.stderr
    assert "revoked 2 key(s)" in result.stdout
    for key in keys:
        assert client.get("/agent/v1/merchants", headers={"X-API-Key": key}).status_code == 401
    assert _cli("revoke-agent", "--agent-id", "retired_bot").returncode == 1  # nothing left to revoke


def test_create_agent_refuses_an_invalid_agent_id(engine: Engine) -> None:
    result = _cli("create-agent", "--agent-id", "no spaces; please")
    assert result.returncode == 1
    assert "agent_id must be" in result.stderr


def test_migrate_is_idempotent_from_the_command_line(engine: Engine) -> None:
    result = _cli("migrate")
    assert result.returncode == 0, result.stderr
    assert "schema up to date" in result.stdout


def test_help_lists_every_command() -> None:
    result = _cli("--help")
    assert result.returncode == 0
    for command in ("migrate", "create-employee", "create-agent", "demo-data", "traffic"):
        assert command in result.stdout


def _run_on_a_terminal(args: list[str], answers: list[str]) -> tuple[int, str]:
    """Run the CLI with a pseudo-terminal as its controlling tty, typing `answers` at each prompt."""
    import fcntl
    import pty
    import select
    import termios
    import time

    primary, secondary = pty.openpty()

    def become_terminal_owner() -> None:
        os.setsid()
        fcntl.ioctl(secondary, termios.TIOCSCTTY, 0)

    process = subprocess.Popen(
        [sys.executable, "-m", "app.cli", *args],
        stdin=secondary,
        stdout=secondary,
        stderr=secondary,
        env=os.environ | {"ENVIRONMENT": "test"},
        cwd=REPO_ROOT,
        preexec_fn=become_terminal_owner,
    )
    os.close(secondary)
    output = b""
    deadline = time.monotonic() + 60
    pending = list(answers)
    while time.monotonic() < deadline:
        if not select.select([primary], [], [], 0.5)[0]:
            continue
        try:
            chunk = os.read(primary, 1024)
        except OSError:  # EIO: the program exited and closed the terminal
            break
        output += chunk
        if pending and output.rstrip().endswith(b":"):
            # A moment for getpass to finish setting up the terminal: it flushes pending input.
            time.sleep(0.2)
            os.write(primary, (pending.pop(0) + "\n").encode())
            output += b"\n"
    process.wait(timeout=10)
    os.close(primary)
    return process.returncode, output.decode(errors="replace")


def test_create_employee_prompts_twice_on_a_terminal_without_echo(client: TestClient, engine: Engine) -> None:
    code, output = _run_on_a_terminal(["create-employee", "--email", "tty@example.com"], [PASSWORD, PASSWORD])
    assert code == 0, output
    assert "Password:" in output
    assert "Repeat password:" in output
    assert PASSWORD not in output  # getpass turned echo off
    signin = client.post("/auth/signin", json={"email": "tty@example.com", "password": PASSWORD})
    assert signin.status_code == 200


def test_create_employee_on_a_terminal_refuses_mismatched_passwords(engine: Engine) -> None:
    code, output = _run_on_a_terminal(
        ["create-employee", "--email", "tty@example.com"], [PASSWORD, PASSWORD + "x"]
    )
    assert code == 1
    assert "the passwords differ" in output
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM employees")).scalar_one() == 0
