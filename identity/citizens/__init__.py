"""Citizens: registration, NIK validation, passwords (argon2id), encryption of personal data at
rest, erasure, and identity's side of data-subject requests and auditor access (UU PDP Art.
5-15, 25, 31, 35, 39, 43-46).

:mod:`~identity.citizens.service` holds :class:`~identity.citizens.service.CitizenService`;
:mod:`~identity.citizens.records` what it stores and returns and the protocols of its storage;
:mod:`~identity.citizens.fields` the personal fields and the checks on their values;
:mod:`~identity.citizens.erasure` crypto-shredding; :mod:`~identity.citizens.age` the age of
majority; :mod:`~identity.citizens.nik`, :mod:`~identity.citizens.passwords`,
:mod:`~identity.citizens.hashing_pool` and :mod:`~identity.citizens.field_crypto` the NIK,
the hashes and the sealing; :mod:`~identity.citizens.subject_requests`,
:mod:`~identity.citizens.access_log` and :mod:`~identity.citizens.auditor_lookup` what the
consent and audit packages are given; :mod:`~identity.citizens.account_access` activation,
recovery and the operator's reset; :mod:`~identity.citizens.population_import` the batched
import of a population register (:mod:`~identity.citizens.register_export` reads its file).

A core: no framework, no database (``identity.storage`` implements the protocols). May import
the audit and consent packages' cores, :mod:`identity.errors`, ``identity.keys`` and
``identity.login``.
"""
