"""Subcommands of the `xinqu` console script, one module each."""
