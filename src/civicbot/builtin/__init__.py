"""The core's default behaviour, written as ordinary plugins (disable them by name)."""
