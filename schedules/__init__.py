"""APScheduler jobs, the outbox, mail delivery and the `steve serve` loop. Not built yet."""
