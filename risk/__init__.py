"""Risk: profiles, rollout phases, sizing, pre-trade checks, exits and breakers. Pure: no I/O, time passed in."""
