"""The service: APScheduler jobs (scheduler.py, jobs.py), the outbox and mail delivery
(outbox.py, delivery.py, mail.py), the follow-up sweep (sweep.py), leader election
(leader.py) and the `steve serve` loop (serve.py)."""
