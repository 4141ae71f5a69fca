"""civicbot plugin auto_reply (work in progress)."""
