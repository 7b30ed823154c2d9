# -*- coding: utf-8 -*-
# Copyright: masa.monitoring contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What every masa.monitoring module shares: one failure type, one rule for diffs, one atomic
write and one way to end.

Not part of the collection's public API.
"""

from __future__ import annotations

import os
import tempfile


class ModuleFailure(Exception):
    """A failure reported to the user as it is. ``status`` and ``body`` are the service's answer,
    when it answered; callers decide by the status, never by the message."""

    def __init__(self, message, status=None, body=None):
        super(ModuleFailure, self).__init__(message)
        self.status = status
        self.body = body


def with_diff(module, result, before, after):
    """The result, with the object before and after when --diff asks and something changed."""
    if module._diff and result.get("changed"):
        result["diff"] = dict(before=before or {}, after=after or {})
    return result


def finish(module, work):
    """End the module with what ``work()`` returns, or fail with the failure's message and the
    service's status (None when it did not answer)."""
    try:
        result = work()
    except ModuleFailure as exc:
        module.fail_json(msg=str(exc), status=exc.status)
    module.exit_json(**result)


def write_atomically(module, path, data, mode):
    """Write ``data`` through a temporary file in the same folder, moved into place by
    module.atomic_move; the file has ``mode`` at every moment it holds the data."""
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        raise ModuleFailure("the folder %s does not exist; create it first" % directory)
    placeholder = False
    fd, tmp = tempfile.mkstemp(prefix=".masa-", dir=directory)
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        if not os.path.exists(path):
            # atomic_move gives a file it creates the umask's mode; one it replaces keeps its own.
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode))
            placeholder = True
        os.chmod(path, mode)
        module.atomic_move(tmp, path)
    except OSError as exc:
        if placeholder and os.path.exists(path) and os.path.getsize(path) == 0:
            os.unlink(path)
        raise ModuleFailure("cannot write %s: %s" % (path, exc.strerror or exc))
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
