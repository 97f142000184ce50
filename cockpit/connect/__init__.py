"""What connectors are built with: HTTP (size caps, errors, TLS, cache), options and their
help, plugin discovery."""
