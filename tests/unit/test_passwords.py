"""Passwords are stored as Argon2id hashes with argon2-cffi's default parameters and a salt per user.

Elsewhere the tests hash each password once per process (tests/conftest.py); these tests hash for real."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from dynbooks.services.auth import add_user, authenticate, hash_password
from dynbooks.store.schema import users
from tests.integration.helpers import World

pytestmark = pytest.mark.real_password_hashing


def test_a_password_is_an_argon2id_hash_with_the_default_parameters_and_a_salt_of_its_own() -> None:
    first, second = hash_password("correct horse battery"), hash_password("correct horse battery")
    assert first.startswith("$argon2id$v=19$m=65536,t=3,p=4$"), first
    assert first != second
    assert "correct horse battery" not in first


def test_two_users_with_one_password_store_different_hashes_and_each_signs_in(db_url: str, tmp_path: Path) -> None:
    world = World(db_url, tmp_path)
    for email in ("a@example.com", "b@example.com"):
        add_user(world.ctx(), email, "same password here", "admin")
    with world.engine.connect() as conn:
        stored = [r.password_hash for r in conn.execute(select(users).order_by(users.c.email))]
    assert len(stored) == 2 and stored[0] != stored[1]
    assert all(h.startswith("$argon2id$v=19$m=65536,t=3,p=4$") for h in stored)
    assert authenticate(world.ctx(), "a@example.com", "same password here") is not None
    assert authenticate(world.ctx(), "b@example.com", "same password here") is not None
    assert authenticate(world.ctx(), "b@example.com", "another password") is None
    assert authenticate(world.ctx(), "nobody@example.com", "same password here") is None
