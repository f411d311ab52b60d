"""Staff of Jati (issue 20): the operators, data protection officers and auditors who use the
console, apart from citizens: their accounts (:mod:`~identity.staff.accounts`: activation,
a password and a mandatory second factor, disabling, resetting), what a staff member is
(:mod:`~identity.staff.records`: roles, the audit actor ``staff:<id>:<role>``), and their
console sessions (:mod:`~identity.staff.sessions`), kept in tables of their own. A core: no
framework; storage is :mod:`identity.storage.staff`.
"""
