"""What each API area needs from tools.access (the one policy), in one place.

Patient-specific endpoints also check the patient is in the user's scope (practitioners:
only patients in whose programme they are active).
"""

from __future__ import annotations

from tools.access import Category as C

# A briefing carries the whole clinical picture: programme, conditions, notes, lab values
# and supplements. Physicians; nutritional therapists and nurses for their own patients.
BRIEFING = (C.PROGRAMME, C.CLINICAL_SUMMARY, C.NOTES, C.LAB_VALUES, C.SUPPLEMENTS)
DIGEST = (C.LITERATURE,)
REVIEWS = (C.PROTOCOL_REVIEWS,)
TASKS = (C.TASKS,)
REFERRALS = (C.REFERRALS_ADMIN,)
REFERRAL_CLINICAL = (C.REFERRALS_ADMIN, C.REFERRALS_CLINICAL)  # closing with an outcome note
SCHEDULE = (C.SCHEDULING,)
AUDIT = (C.AUDIT,)
