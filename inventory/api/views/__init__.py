"""API views: the generic base, one viewset per model, and the special endpoints."""
