"""Data-subject requests: the register through which citizens exercise their rights.

UU PDP Art. 14: the rights of Art. 5-13 are exercised by a recorded request to the
controller. Each request here has a random id, its subject (the citizen's internal id), a
kind, the time it was received, the statutory due-by, a status, the time it was completed
and an outcome that says what was done. Four kinds:

=============  ==========================  =============================================
kind           right                       due-by; what happens on receipt
=============  ==========================  =============================================
access         Art. 7, 32 (and 13: JSON)   72 h; completed at once: the export (personal
                                           data, requests, consents, processing record)
correction     Art. 6, 30                  72 h; applied at once through the identity
                                           service; only the field *names* are kept
erasure        Art. 8, 43-45               none in UU PDP; carried out at once (PP 71/2019
                                           self-service deletion): crypto-shredding, and
                                           the answer names what is kept and on what basis
restriction    Art. 11, 41                 72 h; recorded at once: every release path
                                           reads the flag (:class:`RestrictionRecorder`)
=============  ==========================  =============================================

"3x24 h" (Art. 30, 32, 41) is 72 hours from receipt (see PDP.md). Erasure has no
statutory deadline in UU PDP, so its ``due_by`` is None; it is done at once anyway.

What is stored, and what is not: the register holds no personal data. A correction's new
values go straight to the identity service, which validates, seals and audits them in one
transaction; the register keeps the names of the fields that changed. Nothing here logs an
id of a subject, a field value or a token.

Execution is given to this service as small protocols that the identity package implements
(:mod:`identity.citizens.subject_requests`), since consent may not import identity:
:class:`PersonalDataEraser`, :class:`PersonalDataCorrector`, :class:`PersonalDataExporter`.
Consents come from a :class:`ConsentSource` and the processing record from the audit log
(:class:`EventSource`, which :class:`audit.log.AuditLog` is).

Every request and its completion append an audit entry (Art. 31), in the transaction that
writes the register row. Everything a citizen sends is checked before the request is
recorded. A request whose execution fails with a consent error (the subject was erased
meanwhile, say) is recorded as ``refused`` with the error's code. A correction that fails
otherwise is recorded as ``refused`` with ``internal_error`` (its one write was rolled back,
and its new values are not kept, so no one could carry it out later); an erasure that
fails otherwise stays ``received`` for an operator (it can be carried out again), and so
does any request whose refusal cannot be written either: ``jati requests overdue`` shows
it once its deadline passes.

Modules, each importing :mod:`audit`, :mod:`consent.errors`, :mod:`consent.gate` (the change
notifier) and the modules above it, never ``identity``:

- :mod:`consent.requests.records`: the kinds, deadlines, statuses, outcomes and the request
  itself, as stored;
- :mod:`consent.requests.ports`: what the service is given (the register's store, the
  restriction flags, identity's executors, the consents and the audit log's events);
- :mod:`consent.requests.checks`: the checks of what a citizen sends;
- :mod:`consent.requests.export`: the access right's export and its processing record;
- :mod:`consent.requests.register`: reads of the register;
- :mod:`consent.requests.service`: :class:`~consent.requests.service.RequestService`, which
  records and carries out requests.
"""
