"""endpoints: SIP registration for Cisco TelePresence and Polycom video endpoints."""

__version__ = "0.1.0"
