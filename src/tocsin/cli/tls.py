"""The certificate and key of ``tocsin serve --tls-cert/--tls-key``, checked before it starts.

uvicorn loads them only once the database is up, and a bad file then ends the process with
an ``ssl`` traceback (or, for an encrypted key, a password prompt nobody answers). Checked
here first, each problem is one line naming the file and what is wrong with it, and exit 2
like any bad option.
"""

from __future__ import annotations

import ssl
from pathlib import Path
from typing import NoReturn

import typer
from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization

from tocsin.cli.common import errors

CERT = "--tls-cert / TOCSIN_TLS_CERT"
KEY = "--tls-key / TOCSIN_TLS_KEY"


def check_files(cert: Path, key: Path) -> None:
    """Exit 2 with a message unless ``cert`` and ``key`` are a usable PEM pair."""
    cert_pem = _read(cert, CERT)
    key_pem = _read(key, KEY)
    try:
        x509.load_pem_x509_certificates(cert_pem)
    except ValueError:
        _refuse(f"{CERT} {cert}: no PEM certificate in it")
    try:
        serialization.load_pem_private_key(key_pem, password=None)
    except TypeError:
        _refuse(f"{KEY} {key}: the key is encrypted; give it unencrypted")
    except (ValueError, UnsupportedAlgorithm):
        _refuse(f"{KEY} {key}: no PEM private key in it")
    try:
        ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER).load_cert_chain(cert, key)
    except ssl.SSLError as error:
        reason = (
            "the key does not belong to the certificate"
            if error.reason == "KEY_VALUES_MISMATCH"
            else error.reason or str(error)
        )
        _refuse(f"cannot serve HTTPS with {cert} and {key}: {reason}")


def _read(path: Path, name: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as error:
        _refuse(f"{name} {path}: {error.strerror or error}")


def _refuse(message: str) -> NoReturn:
    # Unwrapped: a path folded across lines cannot be copied back into a command.
    errors.print(f"[red]error:[/red] {message}", markup=True, highlight=False, soft_wrap=True)
    raise typer.Exit(2)
