"""Filter sets, one per model; the base generates NetBox's lookups."""
