"""The wire protocol shared by the server and its clients: event ids and their order, message
types, counter actions. Dependency-free: no server libraries."""
