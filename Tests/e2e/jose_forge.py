"""Raw JOSE for attack tests: builds compact JWS byte by byte (no library in the way), so a test
can send exactly the malformed, mis-signed or confused token it means to."""
import base64
import hashlib
import hmac
import json

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, mldsa, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature, encode_dss_signature

P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551


def b64u(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64u_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def encode_part(part) -> str:
    """A dict becomes compact JSON; a str is taken as the exact JSON text; bytes as they are."""
    if isinstance(part, dict):
        return b64u(json.dumps(part, separators=(",", ":")).encode())
    if isinstance(part, str):
        return b64u(part.encode())
    return b64u(part)


def sign(private_key, alg: str, data: bytes) -> bytes:
    """The JWS signature of `data` with `private_key` under `alg` (ES256 in the raw r||s form)."""
    if alg.startswith("HS"):
        digest = {"HS256": hashlib.sha256, "HS384": hashlib.sha384, "HS512": hashlib.sha512}[alg]
        return hmac.new(private_key, data, digest).digest()
    if alg == "RS256":
        return private_key.sign(data, padding.PKCS1v15(), hashes.SHA256())
    if alg == "PS256":
        return private_key.sign(data, padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32), hashes.SHA256())
    if alg == "ES256":
        r, s = decode_dss_signature(private_key.sign(data, ec.ECDSA(hashes.SHA256())))
        return r.to_bytes(32, "big") + s.to_bytes(32, "big")
    if alg in ("EdDSA", "ML-DSA-65", "ML-DSA-87"):
        return private_key.sign(data)  # ML-DSA: pure, empty context (RFC 9964 §5)
    raise ValueError(alg)


def jws(header, payload, private_key=None, alg=None, signature: bytes = None) -> str:
    """header.payload.signature; signed with `private_key` under `alg` (default: header's alg)
    unless `signature` is given."""
    signing_input = encode_part(header) + "." + encode_part(payload)
    if signature is None:
        signature = sign(private_key, alg or header["alg"], signing_input.encode())
    return signing_input + "." + b64u(signature)


def parts(token: str):
    header, payload, signature = token.split(".")
    return json.loads(b64u_decode(header)), json.loads(b64u_decode(payload)), b64u_decode(signature)


def raw_to_der(raw: bytes) -> bytes:
    """An ES256 raw r||s signature re-encoded as ASN.1 DER (what JWS does not allow)."""
    return encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))


def public_forms(public_key):
    """The public key as PEM, DER and JWK text: what a key-confusion attacker uses as an HMAC secret."""
    pem = public_key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    der = public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return {"PEM": pem, "DER": der, "JWK": json.dumps(jwk(public_key), separators=(",", ":")).encode()}


def jwk(public_key) -> dict:
    if isinstance(public_key, rsa.RSAPublicKey):
        numbers = public_key.public_numbers()
        return {"kty": "RSA", "n": b64u(numbers.n.to_bytes((numbers.n.bit_length() + 7) // 8, "big")), "e": b64u(numbers.e.to_bytes(3, "big"))}
    if isinstance(public_key, ec.EllipticCurvePublicKey):
        numbers = public_key.public_numbers()
        return {"kty": "EC", "crv": "P-256", "x": b64u(numbers.x.to_bytes(32, "big")), "y": b64u(numbers.y.to_bytes(32, "big"))}
    if isinstance(public_key, ed25519.Ed25519PublicKey):
        raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        return {"kty": "OKP", "crv": "Ed25519", "x": b64u(raw)}
    if isinstance(public_key, (mldsa.MLDSA65PublicKey, mldsa.MLDSA87PublicKey)):  # RFC 9964
        alg = "ML-DSA-65" if isinstance(public_key, mldsa.MLDSA65PublicKey) else "ML-DSA-87"
        return {"kty": "AKP", "alg": alg, "pub": b64u(public_key.public_bytes_raw())}
    raise ValueError(public_key)


def load_private(pem: str):
    return serialization.load_pem_private_key(pem.encode(), password=None)


def load_public(pem: str):
    return serialization.load_pem_public_key(pem.encode())


def public_from_jwk(key: dict):
    """A public key from a JWKS entry (RSA, EC P-256, OKP Ed25519)."""
    if key["kty"] == "RSA":
        return rsa.RSAPublicNumbers(int.from_bytes(b64u_decode(key["e"]), "big"), int.from_bytes(b64u_decode(key["n"]), "big")).public_key()
    if key["kty"] == "EC":
        return ec.EllipticCurvePublicNumbers(int.from_bytes(b64u_decode(key["x"]), "big"), int.from_bytes(b64u_decode(key["y"]), "big"),
                                             ec.SECP256R1()).public_key()
    return ed25519.Ed25519PublicKey.from_public_bytes(b64u_decode(key["x"]))


ED25519_ORDER = 2**252 + 27742317777372353535851937790883648493


def second_encodings(token: str, alg: str, public_key=None) -> dict:
    """What anyone who saw `token` can make of its signature without the key: for ES256 the other
    valid signature (r, n - s), which verifies; for EdDSA S + l; for RS256/PS256 s + n and s with
    a leading zero byte (those three must not verify). `public_key` is needed for RSA."""
    signing_input, encoded = token.rsplit(".", 1)
    signature = b64u_decode(encoded)
    forms = {}
    if alg == "ES256":
        r, s = int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
        forms["ECDSA (r, n - s)"] = r.to_bytes(32, "big") + (P256_ORDER - s).to_bytes(32, "big")
    elif alg == "EdDSA":
        s = int.from_bytes(signature[32:], "little")
        forms["EdDSA S + l"] = signature[:32] + (s + ED25519_ORDER).to_bytes(32, "little")
    elif alg in ("RS256", "PS256"):
        modulus = public_key.public_numbers().n
        value = int.from_bytes(signature, "big") + modulus
        forms["RSA s + n"] = value.to_bytes((value.bit_length() + 7) // 8, "big")
        forms["RSA with a leading zero byte"] = b"\x00" + signature
    return {name: f"{signing_input}.{b64u(sig)}" for name, sig in forms.items()}
