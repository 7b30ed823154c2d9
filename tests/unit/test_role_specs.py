"""Every role documents every default in meta/argument_specs.yml, and nothing else; every public
variable carries the role's prefix."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

ROLES = Path(__file__).resolve().parents[2] / "roles"


def role_names():
    return sorted(p.name for p in ROLES.iterdir() if (p / "tasks/main.yml").exists())


@pytest.mark.parametrize("role", role_names())
def test_argument_specs_match_defaults(role):
    defaults_file = ROLES / role / "defaults/main.yml"
    defaults = yaml.safe_load(defaults_file.read_text()) if defaults_file.exists() else {}
    specs = yaml.safe_load((ROLES / role / "meta/argument_specs.yml").read_text())["argument_specs"]
    documented = set(specs["main"].get("options", {}))
    assert set(defaults or {}) - documented == set(), "defaults without a spec"
    assert documented - set(defaults or {}) == set(), "specs without a default"
    known = {"type", "description", "elements", "choices", "required", "default", "options"}
    for entry in specs.values():
        for name, option in entry.get("options", {}).items():
            assert option.get("description"), f"{name} has no description"
            assert option.get("type"), f"{name} has no type"
            assert set(option) <= known, f"{name} has unknown keys {set(option) - known}"


@pytest.mark.parametrize("role", role_names())
def test_public_variables_carry_the_role_prefix(role):
    defaults_file = ROLES / role / "defaults/main.yml"
    defaults = yaml.safe_load(defaults_file.read_text()) if defaults_file.exists() else {}
    assert all(name.startswith(role + "_") for name in defaults or {}), sorted(defaults or {})
    vars_file = ROLES / role / "vars/main.yml"
    if vars_file.exists():
        internal = yaml.safe_load(vars_file.read_text()) or {}
        assert all(name.startswith("_" + role + "_") for name in internal), sorted(internal)
