"""Scheduling: free slots, bookings, visit blocks, reschedules and cancellations.

Rules
- A practitioner works in `WorkingHours` windows (local wall-clock times in the practice zone
  `tz`); windows that touch or overlap on a day count as one. A booking lies inside one window.
- Booked, arrived and completed appointments hold their time; cancelled and no-show ones do
  not. Neither a practitioner nor a patient may have two that overlap (end == start is fine).
- Only active, in-house practitioners are booked here (the external network is seen by referral).
- Offered slots start on the step grid (minutes since local midnight a multiple of the step)
  and never before `now`.
- A visit block is one patient's same-day sequence of parts. The gap is a minimum: each later
  part starts at the first grid time at least `gap_minutes` after the previous part ends, so the
  patient waits at least the gap and less than gap + step, and all parts start at clock-friendly
  grid times. The block search tries every grid start for the first part.

Concurrency: bookings lock the practitioner rows (in id order), then the patient row, before
checking conflicts, so two concurrent bookings of the same time cannot both succeed; on SQLite
they take the database's write lock first instead. Nothing here commits: the caller does.
"""

from tools.scheduling.booking import (
    BlockCancellation,
    book,
    book_block,
    cancel,
    cancel_block,
    reschedule,
)
from tools.scheduling.search import (
    MAX_DURATION,
    MIN_DURATION,
    BlockOption,
    BlockPart,
    Slot,
    block_slots,
    free_slots,
)

__all__ = [
    "MAX_DURATION",
    "MIN_DURATION",
    "BlockCancellation",
    "BlockOption",
    "BlockPart",
    "Slot",
    "block_slots",
    "book",
    "book_block",
    "cancel",
    "cancel_block",
    "free_slots",
    "reschedule",
]
