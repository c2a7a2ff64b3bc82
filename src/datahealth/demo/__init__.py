"""Self-contained demo data platform used by ``datahealth demo``.

It exists so a new user can watch the monitor catch real-looking incidents without connecting
any of their own systems first.
"""
