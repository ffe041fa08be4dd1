"""The forms a secret can take once it has left the wire, and a search for them in stored bytes
and logs. Shared by the secrets tests (`test_secrets_e2e.py`, `test_console_http.py`).

A secret is found whatever container holds it: raw, hex, or inside any base64/base64url text at
any byte offset (each of the three alignments is searched), in a haystack read as it is, with JSON
or Swift string escapes undone, percent-decoded, and each of those with its line breaks removed
(so base64 wrapped at any width is found too). A private key is searched as its whole PEM, each
PEM body line, its PKCS#8 DER, and its private scalars (P-256 `d`, the Ed25519 seed, RSA d, p, q,
dP, dQ, qInv), so storing it as PKCS#1, SEC1, a JWK or raw bytes is found as well."""
import base64
import urllib.parse

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

SHORTEST_PEM_LINE = 16
"""Shorter PEM lines (the tail of a body) are not searched alone: the DER and the scalars are."""


def base64_fragments(data: bytes, alphabet: str) -> dict[str, bytes]:
    """What any base64 (or base64url) text holding `data` must contain, for each offset of
    `data` modulo 3 in the encoded bytes: the characters that depend on `data` alone."""
    fragments = {}
    for shift in range(3):
        encode = base64.urlsafe_b64encode if alphabet == "base64url" else base64.b64encode
        encoded = encode(bytes(shift) + data)
        start = -(-shift * 8 // 6)  # the first character with no bit of the padding prefix
        end = (shift + len(data)) * 8 // 6  # the last character with every bit from `data`
        fragments[f"{alphabet} at offset {shift} mod 3"] = encoded[start:end]
    return fragments


def byte_forms(data: bytes, name: str) -> dict[str, bytes]:
    """`data` raw, in hex (both cases), in base64 and base64url at every alignment."""
    forms = {f"{name} raw": data, f"{name} hex": data.hex().encode(), f"{name} HEX": data.hex().upper().encode()}
    for alphabet in ("base64", "base64url"):
        forms.update({f"{name} {label}": fragment for label, fragment in base64_fragments(data, alphabet).items()})
    return forms


def scalar_forms(data: bytes, name: str) -> dict[str, bytes]:
    """A private scalar's byte forms, plus the first 16 bytes as a Swift `[UInt8]` prints them."""
    forms = byte_forms(data, name)
    forms[f"{name} as a byte list"] = ", ".join(str(byte) for byte in data[:16]).encode()
    return forms


def text_forms(text: str) -> dict[str, bytes]:
    """A text secret (password, token, session id) as UTF-8 and in every byte form of it."""
    return byte_forms(text.encode(), "text")


def integer_bytes(value: int) -> bytes:
    return value.to_bytes((value.bit_length() + 7) // 8, "big")


def private_key_scalars(key) -> dict[str, bytes]:
    """The secret numbers of a private key, big-endian: the only part no public form holds."""
    if isinstance(key, ec.EllipticCurvePrivateKey):
        size = (key.curve.key_size + 7) // 8
        return {"EC d": key.private_numbers().private_value.to_bytes(size, "big")}
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return {"Ed25519 seed": key.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption())}
    if isinstance(key, rsa.RSAPrivateKey):
        numbers = key.private_numbers()
        return {"RSA d": integer_bytes(numbers.d), "RSA p": integer_bytes(numbers.p), "RSA q": integer_bytes(numbers.q),
                "RSA dP": integer_bytes(numbers.dmp1), "RSA dQ": integer_bytes(numbers.dmq1), "RSA qInv": integer_bytes(numbers.iqmp)}
    raise AssertionError(f"a private key of an unexpected type: {type(key).__name__}")


def private_key_forms(pem: str) -> dict[str, bytes]:
    """Every form of a PEM private key searched for: the whole PEM as it is, each body line,
    the body joined, the PKCS#8 DER in its byte forms, and each private scalar in its byte forms
    (RSA d also in decimal)."""
    key = serialization.load_pem_private_key(pem.encode(), password=None)
    lines = pem.strip().splitlines()
    assert lines[0].startswith("-----BEGIN ") and lines[-1].startswith("-----END "), "not a PEM"
    body = lines[1:-1]
    forms = {"PEM as it is": pem.strip().encode(), "PEM body joined": "".join(body).encode()}
    for number, line in enumerate(body, start=1):
        if len(line) >= SHORTEST_PEM_LINE:
            forms[f"PEM line {number}"] = line.encode()
    der = key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    assert base64.b64decode("".join(body)) == der, "the PEM is not the PKCS#8 DER the cryptography package reads"
    forms.update(byte_forms(der, "DER"))
    for name, scalar in private_key_scalars(key).items():
        forms.update(scalar_forms(scalar, name))
    if isinstance(key, rsa.RSAPrivateKey):
        forms["RSA d decimal"] = str(key.private_numbers().d).encode()
    return forms


def private_key_kind(pem: str) -> str:
    """"RSA-2048", "P-256" or "Ed25519": what a generated key really is."""
    key = serialization.load_pem_private_key(pem.encode(), password=None)
    if isinstance(key, rsa.RSAPrivateKey):
        return f"RSA-{key.key_size}"
    if isinstance(key, ec.EllipticCurvePrivateKey):
        return {"secp256r1": "P-256"}.get(key.curve.name, key.curve.name)
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return "Ed25519"
    return type(key).__name__


def views(data: bytes) -> dict[str, bytes]:
    """The ways a haystack is read: as it is, with JSON/Swift string escapes undone, and
    percent-decoded; each also with its line breaks (and escaped line breaks) removed."""
    unescaped = data.replace(b"\\/", b"/").replace(b"\\n", b"\n").replace(b"\\r", b"\r").replace(b'\\"', b'"')
    decoded = urllib.parse.unquote_to_bytes(data.replace(b"+", b"%2B"))
    readings = {"as it is": data, "unescaped": unescaped, "percent-decoded": decoded}
    for name, reading in list(readings.items()):
        readings[f"{name}, line breaks removed"] = reading.replace(b"\\n", b"").replace(b"\r", b"").replace(b"\n", b"")
    return readings


def find(secrets: dict[str, dict[str, bytes]], places: dict[str, bytes]) -> list[str]:
    """Every (secret, form, place) found, as "kind: form in place (view)"; empty if none."""
    found = []
    for place, data in places.items():
        readings = views(data)
        for kind, forms in secrets.items():
            for form, needle in forms.items():
                assert len(needle) >= 8, f"{kind}: {form} is too short to search for ({len(needle)} bytes)"
                hit = next((reading for reading, haystack in readings.items() if needle in haystack), None)
                if hit is not None:
                    found.append(f"{kind}: {form} in {place} ({hit})")
    return found
