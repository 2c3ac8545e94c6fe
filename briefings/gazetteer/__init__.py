"""Data: the built-in gazetteer, one TOML file per topic."""
