"""Helpers shared by the test suite: real services started on loopback ports, project builders."""
