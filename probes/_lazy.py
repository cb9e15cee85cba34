"""Heavy third-party modules the probes use, imported on first use (see
gwdoctor.engine.lazyimport): httpx (~0.19 s), cryptography (~0.08 s) and PyYAML (~0.03 s)
are paid only by the scans that reach a probe needing them."""

from __future__ import annotations

from gwdoctor.engine.lazyimport import LazyModule

httpx = LazyModule("httpx")
x509 = LazyModule("cryptography.x509")
x509_oid = LazyModule("cryptography.x509.oid")
x509_verification = LazyModule("cryptography.x509.verification")
hashes = LazyModule("cryptography.hazmat.primitives.hashes")
serialization = LazyModule("cryptography.hazmat.primitives.serialization")
crypto_utils = LazyModule("cryptography.utils")
yaml = LazyModule("yaml")
