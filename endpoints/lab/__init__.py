"""The lab: simulated endpoints and a simulated meeting service, on loopback.

Users rehearse a rollout against it (`endpoints lab up`, `endpoints demo`) and the tests
drive the real tool against it over real sockets.
"""
