"""``python -m deepimage`` runs the command line."""

from deepimage.cli.main import main

main()
