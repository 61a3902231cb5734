"""Persistence: SQLAlchemy 2 async models, repositories implementing the engine's ports, migrations."""
