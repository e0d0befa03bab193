"""Notifications: the outbox delivered after commit — e-mail (SMTP), signed webhooks, the bell and daily digests.

What the service says and to whom is the runtime's (``bpm.runtime.notices``,
written in the step's transaction); this package only delivers it: whom a
name reaches (``addresses``), how an e-mail is made and sent (``mail``), how
a webhook is signed and posted (``webhook``), and the delivery rules —
settings, retries, dead letters, digests (``deliver``). The worker
(``bpm.scheduler``) runs delivery on each tick.
"""
