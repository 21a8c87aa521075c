"""Test servers for `endpoints doctor`: a real Kamailio, and tiny TLS servers for the faults it won't make."""
