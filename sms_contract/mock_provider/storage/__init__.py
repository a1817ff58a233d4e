"""Storage: the one SQLite database every worker shares (messages, fault rules and
counts), with no HTTP and no Flask."""
