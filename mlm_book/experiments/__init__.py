"""Comparing training runs honestly: learning curves, time to a target loss, spread over seeds."""
