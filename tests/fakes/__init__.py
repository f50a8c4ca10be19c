"""Local stand-ins for external services that speak their real wire protocol."""
