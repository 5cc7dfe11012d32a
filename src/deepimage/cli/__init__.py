"""The ``deepimage`` command: one module per command group; parse, call the API, print."""
