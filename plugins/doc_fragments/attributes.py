# -*- coding: utf-8 -*-
# Copyright: masa.monitoring contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    # Stated once for every module of the collection that reads, compares and then writes.
    DOCUMENTATION = r"""
options: {}
attributes:
  check_mode:
    support: full
    description: Reads the current state and reports what would change, without changing anything.
  diff_mode:
    support: full
    description:
      - When something changed, returns the object's meaningful fields before and after, never secrets or key
        material.
  idempotent:
    support: full
    description: A second run with the same options reports RV(ignore:changed=false).
"""

    # The state option of every module that makes one object exist or not.
    STATE = r"""
options:
  state:
    description: Whether the object should exist (V(present)) or not (V(absent)).
    type: str
    default: present
    choices: [present, absent]
"""
