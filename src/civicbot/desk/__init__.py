"""The editorial desk: a web page where the communication team sees, approves and writes posts.

This package is imported only when the config has a ``desk:`` section (the web stack —
Starlette, uvicorn, Jinja2 templates, argon2 — is loaded by :mod:`civicbot.desk.app` then).
:mod:`civicbot.desk.config` holds the config model and imports nothing heavy.
"""
