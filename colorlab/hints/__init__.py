"""colorlab.hints."""
