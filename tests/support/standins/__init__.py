"""Launchers run INSIDE a stand-in's own virtualenv (never imported by the tests): each starts the stand-in
with the few fixes it needs to speak to today's clients, listed and explained in its docstring."""
