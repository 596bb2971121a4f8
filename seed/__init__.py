"""Seed data: the news report the project grew from, as reports to file. Data only; the use
case that files it is `application.demo`."""
