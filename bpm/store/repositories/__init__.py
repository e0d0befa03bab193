"""Repositories: what the runtime may ask of the store, named by intent.

The runtime says ``uow.tasks.open_at(instance, node)`` or
``uow.jobs.cancel_pending(instance)``; the statements behind it (built once,
run as DirectStatements or queued writes on the unit of work) live here,
next to the tables they touch. The timers and audit issues add their own
(``uow.jobs.claim_due``, chained history appends) in the same way.
"""

from bpm.store.repositories.audit_events import AuditEventRepository
from bpm.store.repositories.credentials import CredentialRepository
from bpm.store.repositories.definitions import DefinitionRepository
from bpm.store.repositories.history import HistoryRepository
from bpm.store.repositories.instances import InstanceRepository
from bpm.store.repositories.jobs import JobRepository
from bpm.store.repositories.outbox import OutboxRepository
from bpm.store.repositories.participants import ParticipantRepository
from bpm.store.repositories.people import PeopleRepository
from bpm.store.repositories.tasks import OfferRepository, TaskRepository

__all__ = [
    "AuditEventRepository", "CredentialRepository", "DefinitionRepository", "HistoryRepository",
    "InstanceRepository", "JobRepository", "OfferRepository", "OutboxRepository", "ParticipantRepository",
    "PeopleRepository", "TaskRepository",
]
