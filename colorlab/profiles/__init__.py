"""colorlab.profiles."""
