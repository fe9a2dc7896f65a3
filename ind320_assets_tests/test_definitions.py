"""The code location loads and wires up without any service: asset graph, partitions, checks, layering."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from dagster import AssetKey, BackfillPolicy

from ind320_assets.assets.datasets import SPECS
from ind320_assets.definitions import defs
from ind320_assets.resources.environment import ENVIRONMENT
from ind320_assets.partitions import ELHUB_PARTITIONS

PROJECT_ROOT = Path(__file__).resolve().parents[1]
GRAPH = defs.resolve_asset_graph()


def test_every_dataset_has_its_six_assets_in_its_own_group():
    assert GRAPH.get_all_asset_keys() == {key for spec in SPECS for key in spec.asset_keys}
    for spec in SPECS:
        assert {GRAPH.get(key).group_name for key in spec.asset_keys} == {spec.group_name}


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.name)
def test_the_chain_and_the_views_depend_on_each_other_as_drawn(spec):
    parents = {stage: {k.path[-1] for k in GRAPH.get(spec.key(stage)).parent_keys} for stage in (
        "raw", "cassandra", "mongo", "daily_totals", "yearly_totals", "hourly_series")}
    name = f"elhub_{spec.name}_"
    assert parents == {
        "raw": set(),
        "cassandra": {name + "raw"},
        "mongo": {name + "cassandra"},
        # Computed from the run's rows read back from Cassandra, published after MongoDB.
        "daily_totals": {name + "cassandra", name + "mongo"},
        "yearly_totals": {name + "daily_totals"},
        "hourly_series": {name + "cassandra", name + "mongo"},
    }


def test_every_asset_is_partitioned_by_month_and_area_and_backfills_as_one_run():
    for key in GRAPH.get_all_asset_keys():
        node = GRAPH.get(key)
        assert node.partitions_def == ELHUB_PARTITIONS
        assert node.backfill_policy == BackfillPolicy.single_run()


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.name)
def test_checks_are_declared_and_the_raw_and_write_checks_block(spec):
    specs = {(c.asset_key, c.name): c for a in defs.assets for c in a.check_specs}
    chain = {spec.key("raw"), spec.key("cassandra"), spec.key("mongo")}
    assert {(k.path[-1], name, c.blocking) for (k, name), c in specs.items() if k in chain} == {
        (f"elhub_{spec.name}_raw", "hours_complete", True),
        (f"elhub_{spec.name}_raw", "rows_not_withdrawn", False),  # a warning: Elhub may withdraw hours
        (f"elhub_{spec.name}_cassandra", "matches_raw", True),
        (f"elhub_{spec.name}_mongo", "matches_cassandra", True),
    }


def test_the_stores_declare_their_table_columns_and_key():
    production = GRAPH.get(AssetKey("elhub_production_cassandra")).metadata
    assert production["cassandra/table"] == "production_per_group_hour"
    columns = [c.name for c in production["dagster/column_schema"].columns]
    assert columns == ["price_area", "month", "production_group", "start_time", "end_time",
                       "last_updated_time", "quantity_kwh"]


def test_sensors_and_schedules_follow_the_datasets():
    assert {s.name for s in defs.sensors} == {f"elhub_{spec.name}_revision_sensor" for spec in SPECS}
    assert {s.name for s in defs.schedules} == {f"elhub_{spec.name}_current_month_daily" for spec in SPECS}


def test_every_setting_is_a_variable_of_its_own():
    names = [name for fields in ENVIRONMENT.values() for name in fields.values()]
    assert len(names) == len(set(names))


def test_the_runtime_imports_nothing_from_the_dev_kit():
    loaded = subprocess.run(
        [sys.executable, "-c", "import sys, ind320_assets.definitions; "
         "print(sorted(m for m in sys.modules if m.startswith(('ind320_devkit', 'bench'))))"],
        capture_output=True, text=True, check=True, cwd=PROJECT_ROOT,
    )
    assert loaded.stdout.strip() == "[]"


def test_a_wheel_without_the_dev_kit_validates_the_definitions(tmp_path):
    """Built and installed as a deployment would: no editable install, no dev kit, no checkout on the path."""
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(tmp_path), str(PROJECT_ROOT)],
        check=True, capture_output=True,
    )
    (wheel,) = tmp_path.glob("ind320_assets-*.whl")
    packaged = zipfile.ZipFile(wheel).namelist()
    assert all(name.startswith(("ind320_assets/", "ind320_assets-")) for name in packaged)
    assert not [name for name in packaged if name.endswith((".csv.gz", ".md"))]

    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    site = next((venv / "lib").glob("python*/site-packages"))
    # The deployment's dependencies come from this environment's site-packages, added as a
    # plain path: its `.pth` files (the editable install among them) are not processed.
    dependencies = Path(next(p for p in sys.path if p.endswith("site-packages")))
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(site), str(wheel)],
                   check=True, capture_output=True)
    (site / "zz_dependencies.pth").write_text(f"{dependencies}\n")
    python = venv / "bin" / "python"
    env = {"PATH": f"{venv / 'bin'}:/usr/bin:/bin", "HOME": str(tmp_path)}
    where = subprocess.run(
        [str(python), "-c", "import ind320_assets, importlib.util as u; print(ind320_assets.__file__); "
         "print(u.find_spec('ind320_devkit'))"],
        capture_output=True, text=True, check=True, cwd=tmp_path, env=env,
    ).stdout.split()
    assert where == [str(site / "ind320_assets" / "__init__.py"), "None"]
    validated = subprocess.run(
        [str(python), "-m", "dagster", "definitions", "validate", "-m", "ind320_assets.definitions"],
        capture_output=True, text=True, cwd=tmp_path, env=env,
    )
    assert validated.returncode == 0, validated.stdout + validated.stderr
