"""Seed data: the news report the project grew from, as reports to file
(`seed/kursk_article.py`), and the loader that files them through the application
(`seed/demo.py`, `timeline demo`)."""
