"""Transports beneath the drivers: HTTP(S), SSH and telnet, with trust checks."""
