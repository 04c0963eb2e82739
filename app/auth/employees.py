"""Staff accounts: creating them and finding them for sign-in."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import IntegrityError

from app.auth.passwords import hash_password, password_problem

Role = Literal["employee", "admin"]
ROLES: tuple[Role, ...] = ("employee", "admin")


class EmployeeError(ValueError):
    """A staff account cannot be created as asked (bad email, weak password, duplicate)."""


@dataclass(frozen=True)
class Employee:
    employee_id: int
    email: str
    role: str
    password_hash: str
    is_active: bool


def normalize_email(email: str) -> str:
    return email.strip().lower()


def _checked_email(email: str) -> str:
    try:
        # Deliverability (DNS) is irrelevant for an internal account and would make creation need network.
        return normalize_email(validate_email(email.strip(), check_deliverability=False).normalized)
    except EmailNotValidError as exc:
        raise EmployeeError(f"invalid email: {exc}") from None


def insert_employee(conn: Connection, email: str, role: str, password_hash: str) -> int:
    """Insert an account whose password is already hashed; returns its id."""
    if role not in ROLES:
        raise EmployeeError(f"role must be one of {', '.join(ROLES)}")
    try:
        with conn.begin_nested():
            return int(
                conn.execute(
                    text(
                        "INSERT INTO employees (email, role, password_hash) VALUES (:email, :role, :hash) "
                        "RETURNING employee_id"
                    ),
                    {"email": normalize_email(email), "role": role, "hash": password_hash},
                ).scalar_one()
            )
    except IntegrityError:
        raise EmployeeError("an account with this email already exists") from None


def create_employee(engine: Engine, email: str, password: str, role: str) -> int:
    problem = password_problem(password)
    if problem:
        raise EmployeeError(problem)
    checked = _checked_email(email)
    with engine.begin() as conn:
        return insert_employee(conn, checked, role, hash_password(password))


def find_employee_by_email(conn: Connection, email: str) -> Employee | None:
    row = conn.execute(
        text("SELECT employee_id, email, role, password_hash, is_active FROM employees WHERE email = :email"),
        {"email": normalize_email(email)},
    ).one_or_none()
    return Employee(**row._mapping) if row else None


def find_active_employee(conn: Connection, employee_id: int) -> Employee | None:
    row = conn.execute(
        text(
            "SELECT employee_id, email, role, password_hash, is_active FROM employees "
            "WHERE employee_id = :id AND is_active"
        ),
        {"id": employee_id},
    ).one_or_none()
    return Employee(**row._mapping) if row else None


def update_password_hash(conn: Connection, employee_id: int, password_hash: str) -> None:
    conn.execute(
        text("UPDATE employees SET password_hash = :hash WHERE employee_id = :id"),
        {"hash": password_hash, "id": employee_id},
    )


def admin_exists(conn: Connection) -> bool:
    return bool(conn.execute(text("SELECT EXISTS (SELECT 1 FROM employees WHERE role = 'admin')")).scalar())
