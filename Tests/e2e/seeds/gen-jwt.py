# Seed 000 (Teradata VantageCloud Lake, "Create a JWT Token"): the script exactly as published,
# laid out one statement per line. The end-to-end tests change only its variables.
import jwt
import datetime
# Personal access token
PAT = "pz87ADn8DtK4nJipWs0UjITGjeCA"
# Database user
USER = "demo"
# Key name from UI
KEY_NAME = "demorsakey"
# Org ID
ORG_ID = "dataresiliency"
# JWT header
header = { "alg": "RS256", "kid": KEY_NAME, "typ": "JWT" }
# JWT payload
iat_v = datetime.datetime.now(datetime.timezone.utc)
exp_v = iat_v + datetime.timedelta(hours=12)
payload = { "aud": ["td:service:authentication"], "exp": exp_v, "iat": iat_v, "iss": "wiki", "org_id": ORG_ID, "multi-use": True, "pat": PAT, "sub": USER }
# Sign the JWT
with open(f"{KEY_NAME}.pem", "r") as key_file:
    private_key = key_file.read()
jwt_token = jwt.encode(payload, private_key, algorithm="RS256", headers=header)
# Print the JWT
print(f"JWT: {jwt_token}")
