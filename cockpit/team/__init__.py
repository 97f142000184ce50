"""Team mode: the shared PostgreSQL store, its connection, its schema and its commands."""
