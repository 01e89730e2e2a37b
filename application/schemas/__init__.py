"""Request bodies of the use cases (the API, the pages and imports share them), kept apart
from the domain's events."""
