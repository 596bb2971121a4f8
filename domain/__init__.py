"""The war's vocabulary: reports as claims, their sources, quantities, times and life cycle.

Pure: nothing here knows about HTTP, SQL or the clock of a database.
"""
