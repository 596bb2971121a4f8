"""Read views folded from the event log (holdings, damage, forces, front, strikes, timeline).

Each view will be a pure fold over domain events plus a thin persistence layer; see the
projections issue. Nothing lives here yet.
"""
