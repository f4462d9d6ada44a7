# Copyright: mailops.mailhost contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The self-signed certificate that keeps Postfix's TLS on until a real one is given.

Generated with openssl on the host (the private key never leaves it): an RSA 2048 key and a
certificate for the host name (subject CN and subjectAltName). Both are written beside their final
names and renamed into place, the key first (0600 from the start) and the certificate last, so that
the certificate's presence means the pair is complete: a run killed halfway leaves no certificate,
and the next run generates the pair again.
"""

from __future__ import annotations

import os
import tempfile

DAYS = 3650


def argv(name: str, key: str, cert: str, days: int = DAYS) -> list[str]:
    """The openssl command for a new pair (key and certificate written to the given paths)."""
    return [
        "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", str(days),
        "-subj", f"/CN={name}", "-addext", f"subjectAltName=DNS:{name}",
        "-keyout", key, "-out", cert,
    ]  # fmt: skip


def generate(run, key: str, cert: str, name: str, days: int = DAYS) -> None:
    """Generate the pair; ``run`` runs an argv and returns (rc, out, err). Raises OSError on failure."""
    tmp_key = tmp_cert = ""
    try:
        fd, tmp_key = tempfile.mkstemp(dir=os.path.dirname(key) or ".", prefix=".mailhost-selfsigned-")
        os.close(fd)  # 0600 from the start: openssl writes into it (the mode is set again below)
        fd, tmp_cert = tempfile.mkstemp(dir=os.path.dirname(cert) or ".", prefix=".mailhost-selfsigned-")
        os.close(fd)
        rc, _out, err = run(argv(name, tmp_key, tmp_cert, days))
        if rc != 0 or not os.path.getsize(tmp_cert):
            raise OSError(f"openssl could not generate the self-signed certificate: {(err or '').strip()[:300]}")
        os.chmod(tmp_key, 0o600)
        os.chmod(tmp_cert, 0o644)
        os.replace(tmp_key, key)
        tmp_key = ""
        os.replace(tmp_cert, cert)
        tmp_cert = ""
    finally:
        for leftover in (tmp_key, tmp_cert):
            if leftover and os.path.exists(leftover):
                os.unlink(leftover)
