"""Request bodies of the API, kept apart from the domain's events."""
