"""Readers that turn source files into rows of the store's tables and report what they refused."""
