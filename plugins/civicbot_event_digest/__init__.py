"""civicbot plugin event_digest (work in progress)."""
