"""`python -m app.cli`: operator commands (schema, staff accounts, agents, demo traffic).

Passwords are never accepted as arguments (they would land in shell history and `ps`): they are read
from a prompt on a terminal, or from the first line of stdin when piped.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from collections.abc import Sequence

from app.auth.employees import ROLES

# These commands belong to the demo package and take their own options; they get argv untouched.
_DELEGATED = {
    "demo-data": "write realistic usage history (see `python -m app.cli demo-data --help`)",
    "traffic": "drive the live Agent API over HTTP (see `python -m app.cli traffic --help`)",
}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m app.cli", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True, metavar="command")
    commands.add_parser("migrate", help="apply the schema in sql/ (idempotent)")
    employee = commands.add_parser(
        "create-employee", help="create a staff account (password from a prompt or stdin)"
    )
    employee.add_argument("--email", required=True)
    employee.add_argument("--role", choices=ROLES, default="employee")
    agent = commands.add_parser("create-agent", help="create an agent (or add a key) and print its API key")
    agent.add_argument("--agent-id", required=True)
    agent.add_argument("--name")
    revoke = commands.add_parser(
        "revoke-agent", help="revoke every API key of an agent (it gets 401 at once)"
    )
    revoke.add_argument("--agent-id", required=True)
    for name, help_text in _DELEGATED.items():
        commands.add_parser(name, help=help_text, add_help=False)
    return parser


def _read_new_password() -> str:
    if sys.stdin.isatty():
        password = getpass.getpass("Password: ")
        if getpass.getpass("Repeat password: ") != password:
            raise SystemExit("error: the passwords differ")
        return password
    return sys.stdin.readline().rstrip("\r\n")


def _migrate() -> int:
    from app.db import get_engine
    from app.migrations import migrate

    applied = migrate(get_engine())
    print(f"applied: {', '.join(applied)}" if applied else "schema up to date")
    return 0


def _create_employee(email: str, role: str) -> int:
    from app.auth.employees import EmployeeError, create_employee
    from app.db import get_engine

    password = _read_new_password()
    try:
        employee_id = create_employee(get_engine(), email, password, role)
    except EmployeeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"created {role} {email.strip().lower()} (id {employee_id})")
    return 0


def _create_agent(agent_id: str, name: str | None) -> int:
    from app.agent_api.keys import create_agent
    from app.db import get_engine

    try:
        key = create_agent(get_engine(), agent_id, name)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    # The key alone on stdout, so `KEY=$(python -m app.cli create-agent ...)` works; the note on stderr.
    print(f"API key for agent {agent_id} (shown once; send it as X-API-Key):", file=sys.stderr)
    print(key)
    return 0


def _revoke_agent(agent_id: str) -> int:
    from app.agent_api.keys import revoke_agent_keys
    from app.db import get_engine

    revoked = revoke_agent_keys(get_engine(), agent_id)
    print(f"revoked {revoked} key(s) of agent {agent_id}")
    return 0 if revoked else 1


def _delegate(command: str, argv: list[str]) -> int:
    if command == "demo-data":
        from app.demo.data import main as demo_data_main

        return int(demo_data_main(argv) or 0)
    from app.demo.traffic import main as traffic_main

    return int(traffic_main(argv) or 0)


def main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    if args_list and args_list[0] in _DELEGATED:
        return _delegate(args_list[0], args_list[1:])
    args = _parser().parse_args(args_list)
    if args.command == "migrate":
        return _migrate()
    if args.command == "create-employee":
        return _create_employee(args.email, args.role)
    if args.command == "create-agent":
        return _create_agent(args.agent_id, args.name)
    if args.command == "revoke-agent":
        return _revoke_agent(args.agent_id)
    raise AssertionError(f"unhandled command {args.command}")


if __name__ == "__main__":
    raise SystemExit(main())
