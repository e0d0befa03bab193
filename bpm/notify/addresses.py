"""Who a message reaches: user names, ``group:NAME`` and e-mail addresses, resolved to people and addresses."""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from bpm.store.uow import UnitOfWork


class Recipient(NamedTuple):
    """One person (``username`` set: they have a bell and settings) or an outside address."""

    key: str  # what delivery records as reached: the user name, or the address
    username: str | None
    email: str | None


def resolve(uow: UnitOfWork, names: Sequence[str]) -> list[Recipient]:
    """Each active user once (groups expanded to their active members), then outside addresses; others dropped."""
    groups = [name.removeprefix("group:") for name in names if name.startswith("group:")]
    plain = [name for name in names if not name.startswith("group:")]
    members = uow.people.members_of(groups)
    wanted = list(dict.fromkeys([*plain, *members]))
    users = {user.username: user for user in uow.people.users(wanted, active_only=True)}
    found = [Recipient(name, name, users[name].email or None) for name in wanted if name in users]
    outside = [Recipient(name, None, name) for name in plain
               if name not in users and "@" in name and "." in name.rsplit("@", 1)[-1]]
    return found + outside
