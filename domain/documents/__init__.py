"""GraphQL documents a client names by hash: automatic persisted queries (Apollo's
protocol) and, in production, trusted documents (only listed ones run)."""
