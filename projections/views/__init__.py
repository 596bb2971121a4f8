"""The views themselves, apart from the machinery that keeps them.

A view module holds one view's pure fold: which reports it follows (`feeds`), the rows they
feed (`fold`), how a row is rendered, and the row's msgspec type; nothing here reads or writes
PostgreSQL. `figures` reads each view's rendered rows back into the figures an explanation
shows. `projections/registry.py` lists the views the service keeps, by name (`VIEWS`), with the
type of each view's rows (`ROW_TYPES`); a view module not listed there is not kept.
"""
