"""Forgotten password: the reset link (1 hour), and the reset itself (placeholder, filled next)."""
