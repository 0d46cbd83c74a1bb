"""``python -m api`` runs the ``buuta`` command."""

from api.cli import main

main()
