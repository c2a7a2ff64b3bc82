"""Free loopback ports for services a test starts itself (the product's helpers, which the demo's
stand-ins use too)."""

from __future__ import annotations

from datahealth.core.processes import free_port, wait_for_port

__all__ = ["free_port", "wait_for_port"]
