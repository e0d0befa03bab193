"""Refluxo BPM: business processes with human tasks on a pure Refluxo-model engine."""

__version__ = "0.1.0"
