"""The Agent API being monitored: agents search products and place orders at merchants (/agent/v1)."""
