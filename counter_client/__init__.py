"""Officer counter client: async API client and terminal app."""
