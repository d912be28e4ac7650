"""Reads that span the grants' models."""

from dataclasses import dataclass, field
from decimal import Decimal

from .models import PlanLine, PlanVersion

#: The fields of a line whose change a comparison reports, in the order shown.
COMPARED_FIELDS = ["category", "title", "description", "cost"]


@dataclass(frozen=True)
class LineChange:
    before: PlanLine
    after: PlanLine
    fields: list[str]

    @property
    def cost_before(self) -> Decimal:
        return self.before.cost

    @property
    def cost_after(self) -> Decimal:
        return self.after.cost

    @property
    def difference(self) -> Decimal:
        return self.after.cost - self.before.cost


@dataclass(frozen=True)
class PlanChanges:
    """What a plan version changed against the version before it (none for version 1)."""

    version: PlanVersion
    previous: PlanVersion | None
    added: list[PlanLine] = field(default_factory=list)
    removed: list[PlanLine] = field(default_factory=list)
    changed: list[LineChange] = field(default_factory=list)

    @property
    def total_before(self) -> Decimal | None:
        return self.previous.total if self.previous else None

    @property
    def total_after(self) -> Decimal:
        return self.version.total

    @property
    def difference(self) -> Decimal:
        return self.version.total - (self.previous.total if self.previous else Decimal("0.00"))

    @property
    def any(self) -> bool:
        return bool(self.added or self.removed or self.changed)


def plan_changes(version: PlanVersion) -> PlanChanges:
    """Compare a version with the one numbered before it, line by line through their keys:
    a key in both is the same line (changed or not), a key in one only was added or removed.

    Two queries: the previous version, and the lines of both.
    """
    previous = (
        PlanVersion.objects.filter(grant_id=version.grant_id, number=version.number - 1).first()
        if version.number > 1
        else None
    )
    lines = PlanLine.objects.filter(
        version_id__in=[version.pk] + ([previous.pk] if previous else [])
    ).select_related("category")
    before = {line.key: line for line in lines if previous and line.version_id == previous.pk}
    after = {line.key: line for line in lines if line.version_id == version.pk}
    ordered_after = sorted(after.values(), key=lambda line: line.position)
    changed = []
    for line in ordered_after:
        old = before.get(line.key)
        if old is None:
            continue
        fields = [
            name
            for name in COMPARED_FIELDS
            if getattr(old, name if name != "category" else "category_id")
            != getattr(line, name if name != "category" else "category_id")
        ]
        if fields:
            changed.append(LineChange(before=old, after=line, fields=fields))
    return PlanChanges(
        version=version,
        previous=previous,
        added=[line for line in ordered_after if previous and line.key not in before],
        removed=sorted(
            (line for key, line in before.items() if key not in after),
            key=lambda line: line.position,
        ),
        changed=changed,
    )
