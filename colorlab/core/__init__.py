"""colorlab.core."""
