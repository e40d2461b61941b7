"""The engineers' web UI: NetBox-style generic views declared once per model."""
