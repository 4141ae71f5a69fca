"""civicbot plugin weather (work in progress)."""
