"""The agents' web inbox: server-rendered pages over the same domain calls as the REST API."""
