"""The views themselves, apart from the machinery that keeps them.

A view module holds one view as `core.View` asks: which claims it follows (`follows`), the
keys of the rows a report feeds (`keys`), how a row is rendered from its reports (`render`),
and the row's msgspec type; nothing here reads or writes PostgreSQL, so a unit test drives a
view with a list of reports. `figures` reads each view's rendered rows back into the figures an
explanation shows. `projections/registry.py` lists the views the service keeps, by name
(`VIEWS`), with the type of each view's rows (`ROW_TYPES`); a view module not listed there is
not kept.
"""
