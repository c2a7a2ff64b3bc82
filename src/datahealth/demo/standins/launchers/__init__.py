"""Launchers run INSIDE a stand-in's own virtualenv (executed by path, never imported by datahealth): each
starts the stand-in with the few fixes it needs to speak to today's clients, listed in its docstring."""
