"""Read views folded from the event log: holdings, damage, forces, front, strikes, timeline,
tallies, the histories of holdings, forces and front (one row per key and day) and of the
tallies (one row per key and month).

`core` is the pure fold engine every view shares; each view module, in `views/`, says which
reports it follows, which rows they feed and how a row is rendered. `runner` keeps a view's rows in
PostgreSQL (`persistence`), exactly once, and runners started together share their first fold
(`catch_up`); `registry` lists the views the service keeps.
"""
