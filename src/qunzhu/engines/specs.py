"""The spec sections the engines read, for one community, with the defaults when the
community has no spec or one that does not validate (the engines still run; the lint
tells the operator what is wrong)."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import Connection, select

from qunzhu.spec.members import RoleTargets, RoleThresholds, Tier, ValueWeights, default_tiers
from qunzhu.store.models import Community


@dataclass(frozen=True)
class EngineSpec:
    weights: ValueWeights = field(default_factory=ValueWeights)
    roles: RoleThresholds = field(default_factory=RoleThresholds)
    targets: RoleTargets = field(default_factory=RoleTargets)
    tiers: tuple[Tier, ...] = field(default_factory=lambda: tuple(default_tiers()))
    source: str = "defaults"  # "spec" when read from the community's spec


def engine_spec_from_yaml(text: str | None) -> EngineSpec:
    if not text:
        return EngineSpec()
    from qunzhu.spec.loader import load_spec  # the loader pulls in YAML machinery: load late

    try:
        spec = load_spec(text)
    except Exception:  # an invalid spec: defaults, and `qunzhu spec lint` says why
        return EngineSpec(source="defaults (the community's spec does not validate)")
    return EngineSpec(
        weights=spec.value,
        roles=spec.roles,
        targets=spec.role_targets,
        tiers=tuple(spec.tiers),
        source="spec",
    )


class SpecCache:
    """Specs by community id, read once per run."""

    def __init__(self) -> None:
        self._specs: dict[int, EngineSpec] = {}

    def get(self, conn: Connection, community_id: int) -> EngineSpec:
        found = self._specs.get(community_id)
        if found is None:
            text = conn.execute(
                select(Community.spec_yaml).where(Community.id == community_id)
            ).scalar()
            found = self._specs[community_id] = engine_spec_from_yaml(text)
        return found
