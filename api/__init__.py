"""The HTTP API on litestar: thin controllers over the application's use cases."""
