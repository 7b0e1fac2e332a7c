"""The weekly pulse surveys: runs and deliveries (exactly once per person and week), answers, and
the anonymity rules every enablement figure passes through (privacy, satisfaction).
"""
