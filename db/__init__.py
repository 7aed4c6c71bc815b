"""Persistence only: the engine and sessions (engine.py), the tables (models/), the schema
migrations (migrations/), the change log, schema checks and the translation of database
failures into one clear line. Imports nothing else of Steve.
"""
