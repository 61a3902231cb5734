"""Protocol-level stand-ins for remote services, served on loopback for tests and demos."""
