"""colorlab.inference."""
