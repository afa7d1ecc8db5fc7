"""Vendors more than one channel uses (Twilio carries texts and calls): their client set-up,
the meaning of their errors and the checks of their webhooks, in one place."""
