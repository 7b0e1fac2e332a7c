"""Time, defined once: ISO weeks and survey periods, period windows (which instants and which
local dates a figure covers), quarters, and the business calendar the SLAs count in.
"""
