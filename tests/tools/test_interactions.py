"""The curated medication-supplement interaction table and its matching."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support import paths
from tools.errors import ConfigError
from tools.interactions import SEVERITIES, TABLE, find_interactions, load_interactions


def test_the_table_is_small_curated_and_referenced() -> None:
    table = load_interactions()
    assert 15 <= len(table) <= 30
    assert len({i.id for i in table}) == len(table)
    for i in table:
        assert i.severity in SEVERITIES
        assert i.medication_terms and i.supplement_terms
        assert i.source and i.url.startswith("https://")
        assert i.ref == f"interaction:{i.id}"


def test_the_table_ships_as_package_data() -> None:
    text = (paths.ROOT / "pyproject.toml").read_text()
    assert '"tools" = ["data/*.csv"]' in text
    assert TABLE.is_file()


def test_current_medication_and_supplement_pairs_are_flagged() -> None:
    flags = find_interactions(
        medications=[("medication:1", "Levothyroxine"), ("medication:2", "Lansoprazole")],
        supplements=[
            ("supplement:5", "Iron bisglycinate 20 mg (Thorne)"),
            ("supplement:6", "Magnesium glycinate 120 mg (Pure Encapsulations)"),
            ("supplement:7", "Psyllium husk powder"),
        ],
    )
    found = {(f.interaction.id, f.medication_ref, f.supplement_ref) for f in flags}
    assert found == {
        ("levothyroxine-iron", "medication:1", "supplement:5"),
        ("levothyroxine-magnesium", "medication:1", "supplement:6"),
        ("levothyroxine-psyllium", "medication:1", "supplement:7"),
        ("ppi-iron", "medication:2", "supplement:5"),
        ("ppi-magnesium", "medication:2", "supplement:6"),
    }
    order = [SEVERITIES.index(f.interaction.severity) for f in flags]
    assert order == sorted(order)  # most serious first


def test_terms_match_whole_words_only() -> None:
    # 'epa' is an omega-3 term; it must not match inside another word.
    assert not find_interactions(
        medications=[("medication:1", "Warfarin")],
        supplements=[("supplement:1", "Hepatic support blend")],
    )
    assert find_interactions(
        medications=[("medication:1", "Warfarin 3 mg")],
        supplements=[("supplement:1", "Omega-3 EPA/DHA 1 g (Nordic Naturals)")],
    )


def test_a_malformed_table_is_a_configuration_error(tmp_path: Path) -> None:
    bad = tmp_path / "interactions.csv"
    header = TABLE.read_text(encoding="utf-8").splitlines()[0]
    bad.write_text(header + "\nx,Med,med,Sup,sup,catastrophic,e,a,s,https://x\n")
    with pytest.raises(ConfigError, match="line 2: unknown severity"):
        load_interactions(bad)
    bad.write_text("id,name\n")
    with pytest.raises(ConfigError, match="columns"):
        load_interactions(bad)
