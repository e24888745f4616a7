"""The bounded recovery brief and the recovery log entries."""
