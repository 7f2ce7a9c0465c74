"""Demo users of the reference portal and their bearer tokens (docs/portal-api.md §1.1).

These tokens are public test fixtures of the demo portal, valid nowhere else.
"""

from __future__ import annotations

from dataclasses import dataclass

INSTRUCTOR = "instructor"
AGENT = "agent"
LEAD = "lead"


@dataclass(frozen=True, slots=True)
class User:
    id: str
    display_name: str
    roles: frozenset[str]

    def has(self, *roles: str) -> bool:
        return bool(self.roles.intersection(roles))


_INSTRUCTOR_NAMES = ("Camille Laurent", "Mehdi Bensaïd", "Sophie Klein", "Julien Marchal", "Nadia Schmitt")

DEMO_USERS: dict[str, User] = {
    **{
        f"demo-instructor-{n}": User(f"instructor-{n}", name, frozenset({INSTRUCTOR}))
        for n, name in enumerate(_INSTRUCTOR_NAMES, start=1)
    },
    "demo-agent": User("agent-1", "Léa Muller", frozenset({AGENT})),
    "demo-lead": User("lead-1", "Aïcha Benali", frozenset({LEAD, INSTRUCTOR})),
}

# Colleagues simulated by the portal (no token): they appear as holders and deciders.
COLLEAGUES: tuple[User, ...] = (
    User("instructor-6", "Thomas Weber", frozenset({INSTRUCTOR})),
    User("instructor-7", "Inès Haddad", frozenset({INSTRUCTOR})),
    User("instructor-8", "Pierre Colin", frozenset({INSTRUCTOR})),
)
