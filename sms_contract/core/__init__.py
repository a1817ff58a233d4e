"""The contract itself: encoding and credits, the payload model, validation,
credentials and the reading of a provider's answer. No HTTP framework here."""
