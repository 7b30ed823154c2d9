"""TLS contexts for the SDK: the metrics endpoint's server side and the Consul client side."""

from __future__ import annotations

import calendar
import ssl
import time
from dataclasses import dataclass
from pathlib import Path
from typing import List, Optional, Tuple


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


# TLS 1.2 suites with forward secrecy and AEAD only; TLS 1.3's are all AEAD.
TLS12_CIPHERS = "ECDHE+AESGCM:ECDHE+CHACHA20"


def server_context(files: TLSFiles) -> ssl.SSLContext:
    """Require a client certificate signed by our CA only; TLS 1.2 (AEAD suites) or later."""
    files.check_readable()
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.set_ciphers(TLS12_CIPHERS)
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
    """The expiry of the first certificate in a PEM file, as a Unix timestamp. Read from the DER
    itself (Certificate > TBSCertificate > Validity), so the SDK needs no cryptography package."""
    try:
        certificate = _der_items(_der_item(ssl.PEM_cert_to_DER_cert(path.read_text()), 0)[1])
        tbs = _der_items(certificate[0][1])
        # TBSCertificate: [0] version (optional), serialNumber, signature, issuer, validity, ...
        fields = tbs[1:] if tbs[0][0] == _EXPLICIT_VERSION else tbs
        tag, not_after = _der_items(fields[3][1])[1]
        moment = time.strptime(not_after.decode("ascii"), "%y%m%d%H%M%SZ" if tag == _UTC_TIME else "%Y%m%d%H%M%SZ")
    except (OSError, ValueError, IndexError) as exc:
        raise ConfigurationError(f"cannot read the expiry of the certificate {path}: {exc}") from None
    return float(calendar.timegm(moment))


_EXPLICIT_VERSION = 0xA0
_UTC_TIME = 0x17


def _der_items(content: bytes) -> List[Tuple[int, bytes]]:
    """The (tag, content) items that make up a DER constructed value's content."""
    items, offset = [], 0
    while offset < len(content):
        tag, value, offset = _der_item(content, offset)
        items.append((tag, value))
    return items


def _der_item(data: bytes, offset: int) -> Tuple[int, bytes, int]:
    """The DER item at ``offset``: its tag, its content and where the next item starts."""
    tag, length = data[offset], data[offset + 1]
    offset += 2
    if length & 0x80:
        size = length & 0x7F
        length = int.from_bytes(data[offset:offset + size], "big")
        offset += size
    if offset + length > len(data):
        raise ValueError("truncated DER")
    return tag, data[offset:offset + length], offset + length
