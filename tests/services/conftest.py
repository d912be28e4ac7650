"""Fixtures of the tests of the services: a call, a staff member of Smiltene and their draft,
and the source case."""

import pytest

from applications import services

from ..factories import CompetitionFactory, municipality, staff_of
from ..source_case import build_source_case


@pytest.fixture
def call():
    return CompetitionFactory()


@pytest.fixture
def smiltene():
    return staff_of("smiltenes-novads")


@pytest.fixture
def draft(call, smiltene):
    return services.application_start(
        competition=call, municipality=municipality("smiltenes-novads"), by=smiltene
    )


@pytest.fixture
def case():
    return build_source_case()
