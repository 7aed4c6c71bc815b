"""The `steve` command line: one Typer module per command group (patients, schedule, tasks,
referrals, literature, memory, jobs, users, ...), main.py tying them together and common.py
holding what every command shares (settings, database, errors, tables and --json).
"""
