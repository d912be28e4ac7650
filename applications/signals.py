"""Signals through which the later stages of a grant's life follow the applications app,
which imports none of them."""

from django.dispatch import Signal

#: Sent by ``competition_decide`` inside the decision's transaction, once every submitted
#: application of the call is awarded or rejected, with ``competition`` (the call, locked),
#: ``awarded`` (its awarded applications) and ``by`` (the coordinator). A receiver that
#: raises rolls the whole decision back.
competition_decided = Signal()
