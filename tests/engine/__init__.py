"""Tests of the rule engine: packs, evaluation, config, scoring."""
