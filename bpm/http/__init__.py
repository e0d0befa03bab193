"""What the two HTTP adapters (``bpm.api`` and ``bpm.web``) and sign-in (``bpm.auth``) share: how a domain error
becomes a status, and how a stored file leaves the service. Neither adapter imports the other."""
