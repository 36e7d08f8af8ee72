"""colorlab.evaluation."""
