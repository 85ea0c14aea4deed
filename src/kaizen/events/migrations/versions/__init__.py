"""One module per revision of the event database (revision ids "1", "2", …)."""
