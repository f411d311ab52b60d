"""A citizen's age, as the rules on children need it (UU PDP Art. 25: a child's consent is
given by a parent or guardian; a child is under :data:`consent.ledger.AGE_OF_MAJORITY`)."""

from __future__ import annotations

from datetime import date

from consent.ledger import AGE_OF_MAJORITY


def is_child(birthdate: date, today: date) -> bool:
    """Whether someone born on ``birthdate`` is still a child on ``today``; one born on
    29 February comes of age on 1 March of a common year."""
    try:
        majority = birthdate.replace(year=birthdate.year + AGE_OF_MAJORITY)
    except ValueError:  # 29 February
        majority = date(birthdate.year + AGE_OF_MAJORITY, 3, 1)
    return today < majority
