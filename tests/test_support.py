"""The support matrix is the one source: the README's table, the inventory's models, the lab."""
from __future__ import annotations

from pathlib import Path

import pytest

from endpoints import support
from endpoints.profiles import ProfileSet

README = Path(__file__).parent.parent / "README.md"


def test_the_readme_table_is_the_matrix() -> None:
    assert support.markdown_table() in README.read_text(encoding="utf-8")


def test_every_line_has_its_profile_and_every_family_its_drivers() -> None:
    profiles = ProfileSet.load()
    for line in support.MATRIX:
        assert profiles.get(line.profile).vendor == line.family
        for model in line.models:
            assert model in profiles.get(line.profile).models
    from endpoints.drivers import driver_class

    for family in support.FAMILIES.values():
        for transport in family.transports:
            assert driver_class(family.name, transport).__name__


@pytest.mark.parametrize(("written", "model"), [("sx20", "SX20"), ("Group550", "Group 550"), ("hdx-7000", "HDX 7000"),
                                                ("room bar", "Room Bar"), ("SX30", None)])
def test_models_as_written_in_an_inventory(written: str, model: str | None) -> None:
    assert support.canonical_model(written) == model


@pytest.mark.parametrize(("product", "model"), [
    ("Cisco TelePresence SX80", "SX80"), ("Cisco Room Bar", "Room Bar"), ("Cisco Webex Desk Pro", "Desk Pro"),
    ("RealPresence Group 500", "Group 500"), ("HDX 9006", "HDX 9000"), ("Cisco Room Kit Mini", None)])
def test_models_as_devices_name_themselves(product: str, model: str | None) -> None:
    assert support.model_of_product(product) == model


def test_a_model_without_transport_is_probed_in_a_safe_order() -> None:
    assert [f.name for f in support.families_with("http")] == ["polycom-hdx", "cisco"]
    assert [f.name for f in support.families_with("telnet")] == ["polycom-group", "polycom-hdx"]
