"""Repositories: rows in, domain objects out. Each receives the unit of work's session."""
