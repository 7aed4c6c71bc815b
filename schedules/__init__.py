"""The service: APScheduler jobs (scheduler.py, jobs.py), one module per job (morning,
weekly, sweep, literature), run history (history.py), leader election (leader.py), health
checks, the `steve serve` loop (serve.py) and the email it sends (email/).
"""
