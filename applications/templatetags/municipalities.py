from django import template

from applications.letters import municipality_authority

register = template.Library()


@register.filter
def authority(name: str) -> str:
    """``{{ application.municipality.name|authority }}``: ``Valkas novada pašvaldība``."""
    return municipality_authority(name)
