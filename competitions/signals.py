"""Signals through which the apps above follow a call's life, which this app cannot mail about
itself (the mail helpers live in ``applications``). Each is sent after the change commits."""

from django.dispatch import Signal

#: Sent by ``competition_publish`` once the publication commits, with ``competition``.
call_published = Signal()

#: Sent when a published call's deadline is moved (the call's admin form), once the change
#: commits, with ``competition`` and ``closes_before`` (the deadline it had).
deadline_changed = Signal()
