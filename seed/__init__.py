"""Seed data: the news report the project grew from, as reports to file."""
