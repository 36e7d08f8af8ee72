"""colorlab.rarity."""
