"""Checks of the theories against recorded runs of real models."""
