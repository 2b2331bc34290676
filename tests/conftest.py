"""Shared fixtures: the repository's data folder and the built store."""
