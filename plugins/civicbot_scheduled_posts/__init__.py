"""civicbot plugin scheduled_posts (work in progress)."""
