"""Reports built from Prometheus and the inventory (the monthly strand report)."""
