"""Use cases: what editors and the CLI ask of the timeline, over the event store."""
