"""Email the service sends: the outbox of queued messages (outbox.py), MIME building
(mime.py), delivery over SMTP or to a directory (delivery.py) and SMTP fault injection for
tests (smtp_faults.py).
"""
