"""Entry point for gunicorn: ``gunicorn wsgi:app`` (settings from ARCHIVE_* variables)."""
from archive_portal import create_app

app = create_app()
