"""The retrieval API the agent uses: the store, caught up with the practice's writes first.

Before each search the change log is drained (bounded), so a note written a moment ago is
found; a large backlog (a literature fetch) is left to `steve memory sync` or the service
rather than making a chat turn wait minutes. Patient filtering is the store's and cannot be
omitted: `search_patient` needs the patient id.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from sqlalchemy import Engine
from sqlmodel import Session

from memory.store import Hit, MemoryStore
from memory.sync import drain, pending

log = logging.getLogger(__name__)
CATCH_UP_BATCHES = 2  # up to ~500 changes before a search


class Retriever:
    def __init__(self, *, store: MemoryStore, engine: Engine) -> None:
        self.store = store
        self.engine = engine

    def catch_up(self, max_batches: int = CATCH_UP_BATCHES) -> int:
        """Apply up to `max_batches` batches of pending changes; returns how many are left."""
        report = drain(engine=self.engine, store=self.store, max_batches=max_batches)
        if report.changes:
            log.info("memory caught up with %d change(s) before searching", report.changes)
        with Session(self.engine) as session:
            return pending(session)

    def search_patient(self, patient_id: int, query: str, *, k: int = 5) -> Sequence[Hit]:
        self.catch_up()
        return self.store.search_patient(patient_id, query, k=k)

    def search_literature(self, query: str, *, k: int = 10) -> Sequence[Hit]:
        self.catch_up()
        return self.store.search_literature(query, k=k)

    def preferences_for(self, physician_id: int) -> Sequence[Hit]:
        self.catch_up()
        return self.store.preferences_for(physician_id)
