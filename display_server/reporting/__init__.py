"""The visit report read from the archive: figures (pure), the query, the output formats."""
