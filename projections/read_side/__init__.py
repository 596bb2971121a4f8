"""The read side: what the API answers that is worked out of the views' rows rather than
stored as one: the shapes of the views' answers, a history's chart points, the sources and
regions summed up from the timeline, strikes as GeoJSON features and strikes in the order
they happened. Pure of the web: the API only asks and encodes."""
