"""Fault injection: rules, the magic recipients, and how a plan is applied to a send."""
