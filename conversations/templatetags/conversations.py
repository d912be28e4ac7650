"""The thread's pieces on pages of the apps below, which import nothing of this app: the
dashboard's requests and unread counts, and the application page's link to its thread."""

from django import template

from competitions import roles

from .. import selectors, services
from ..models import Side

register = template.Library()


@register.simple_tag(takes_context=True)
def staff_inbox(context) -> dict:
    """For the municipal staff's dashboard: the open requests of their municipalities (the
    earliest due first, overdue marked) and the unread messages by application. Two queries."""
    user = context["request"].user
    messages = selectors.staff_messages(user)
    return {
        "requests": selectors.open_requests(messages),
        "unread": selectors.unread_by_application(user, side=Side.MUNICIPALITY),
    }


@register.simple_tag
def unread_in(inbox: dict, application_id: int) -> int:
    return inbox["unread"].get(application_id, 0)


@register.inclusion_tag("conversations/_application_box.html", takes_context=True)
def application_thread(context, application) -> dict:
    """The application page's box: unread messages, open requests, the objection period. A
    draft has no thread, and costs no query."""
    if not services.thread_open(application):
        return {"thread_open": False}
    user = context["request"].user
    return {
        "application": application,
        "thread_open": True,
        "unread": application.messages.unread_by(user, side=Side.MUNICIPALITY).count()
        if roles.acts_for(user, application.municipality)
        else 0,
        "open_requests": selectors.open_requests(application.messages.all()),
        **services.objection_state(application),
    }
