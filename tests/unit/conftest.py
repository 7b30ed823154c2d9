"""Unit tests import the collection as ansible_collections.masa.monitoring, through Ansible's own
collection loader (make collection links the checkout into .collections)."""

from __future__ import annotations

from pathlib import Path

from ansible.plugins.loader import init_plugin_loader

init_plugin_loader([str(Path(__file__).resolve().parents[2] / ".collections")])
