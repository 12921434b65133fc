"""The bundled example account (package data for `pd-audit demo`)."""
