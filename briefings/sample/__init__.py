"""Data: the bundled sample corpus (outlets and items)."""
