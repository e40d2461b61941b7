"""infrastrand inventory: NetBox-style models, change log, API and UI."""
