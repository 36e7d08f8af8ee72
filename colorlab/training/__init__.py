"""colorlab.training."""
