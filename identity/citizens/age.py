"""A citizen's age, as the rules on children need it (UU PDP Art. 25: a child's consent is
given by a parent or guardian; a child is under :data:`consent.ledger.AGE_OF_MAJORITY`),
and as the identity credential's ``age_equal_or_over`` states it."""

from __future__ import annotations

from datetime import date

from consent.ledger import AGE_OF_MAJORITY


def age_on(birthdate: date, today: date) -> int:
    """Whole years of someone born on ``birthdate``, on ``today``; one born on 29 February
    turns a year older on 1 March of a common year."""
    years = today.year - birthdate.year
    return years - ((today.month, today.day) < (birthdate.month, birthdate.day))


def is_child(birthdate: date, today: date) -> bool:
    """Whether someone born on ``birthdate`` is still a child on ``today``; one born on
    29 February comes of age on 1 March of a common year."""
    return age_on(birthdate, today) < AGE_OF_MAJORITY
