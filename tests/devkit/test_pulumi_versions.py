"""`devkit.pulumi_versions`: the lowest and the highest pulumi the package allows."""

from __future__ import annotations

import pytest

from devkit.pulumi_versions import allowed_pulumi, lowest_pin


@pytest.mark.parametrize(
    ("requirement", "pin"),
    [
        ("pulumi<4,>=3.200", "pulumi==3.200.0"),
        ("pulumi>=3.200,<4", "pulumi==3.200.0"),
        ("pulumi >= 3.99.2, < 4", "pulumi==3.99.2"),
        ("pulumi>=3", "pulumi==3.0.0"),
    ],
)
def test_the_lowest_pin_is_the_lower_bound_as_a_release(requirement: str, pin: str) -> None:
    assert lowest_pin(requirement) == pin


def test_the_package_allows_one_pulumi_range_beside_its_other_runtime_dependencies() -> None:
    pulumi, others = allowed_pulumi()
    assert lowest_pin(pulumi).startswith("pulumi==3.")
    assert sorted(r.split("<")[0].split(">")[0] for r in others) == ["httpx"]
