"""Alembic migrations of the practice database: env.py and one module per revision in
versions/, applied in order by `db.engine.migrate`.
"""
