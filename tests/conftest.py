"""Suite-wide fixtures. Each test folder keeps its own conftest for its own area."""
