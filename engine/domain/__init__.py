"""The pure domain model: money and ids, orders and their state machine, positions, signals, events."""
