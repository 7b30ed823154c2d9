"""TLS contexts for the SDK: the metrics endpoint's server side and the Consul client side."""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from pathlib import Path
from typing import Optional


class ConfigurationError(Exception):
    """A setting that keeps the service from starting; the message says which and how to fix it."""


@dataclass(frozen=True)
class TLSFiles:
    cert: Path
    key: Path
    ca: Path

    def check_readable(self) -> None:
        for label, path in (("certificate", self.cert), ("key", self.key), ("CA certificate", self.ca)):
            try:
                with open(path, "rb"):
                    pass
            except OSError as exc:
                raise ConfigurationError(f"cannot read the TLS {label} at {path}: {exc.strerror or exc}") from None


def server_context(files: TLSFiles) -> ssl.SSLContext:
    """Require a client certificate signed by our CA only; TLS 1.2 or later."""
    files.check_readable()
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.verify_mode = ssl.CERT_REQUIRED
    _load_pair(context, files)
    context.load_verify_locations(cafile=str(files.ca))
    return context


def client_context(ca: Optional[Path], cert: Optional[Path] = None, key: Optional[Path] = None) -> ssl.SSLContext:
    """Verify the server against ``ca`` (our CA, not the system store) and present our certificate."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    if ca is not None:
        context.load_verify_locations(cafile=str(ca))
    else:
        context.load_default_certs()
    if cert is not None and key is not None:
        _load_pair(context, TLSFiles(cert=cert, key=key, ca=ca or cert))
    return context


def _load_pair(context: ssl.SSLContext, files: TLSFiles) -> None:
    try:
        context.load_cert_chain(certfile=str(files.cert), keyfile=str(files.key))
    except ssl.SSLError as exc:
        raise ConfigurationError(
            f"the key {files.key} does not match the certificate {files.cert}, or one is not PEM: {exc.reason}"
        ) from None
    except OSError as exc:
        raise ConfigurationError(f"cannot load {files.cert} / {files.key}: {exc.strerror or exc}") from None


def certificate_not_after(path: Path) -> float:
    """The certificate's expiry as a Unix timestamp, read with the standard library only."""
    # The standard library's decoder keeps the SDK free of a cryptography dependency.
    info = ssl._ssl._test_decode_cert(str(path))  # type: ignore[attr-defined]
    return float(ssl.cert_time_to_seconds(info["notAfter"]))
