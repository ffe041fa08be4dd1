# Seed 001 (Teradata VantageCloud Lake, "Create JWT tokens using Python library"): steps 3 to 6
# pasted into one file, as the seed suggests. The end-to-end tests change only its variables.
# The published step 5 signs `pat_switch`, a name the seed never defines; it is treated as one
# more variable to fill in.
import argparse
import datetime
import jwt
import requests
from cryptography.hazmat.primitives.serialization import load_pem_private_key
org_key = 'XXX'
sub = 'XX'
kid = 'XXX' # Always replace with the actual key.
pemkey = 'XXXX'
urlsystem = 'https://XX.innovationlabs.teradata.com/api/accounts/974c1971-7326-42f7-8263-9033839d15b9/'
pat = 'XXXX'
pat_switch = 'XXXX'

with open(pemkey, 'rb') as key_file:
    private_key = load_pem_private_key(key_file.read(), password=None)


headers = {
    "alg": "RS256",
    "typ": "JWT",
    "kid": kid
}

payload = {
    "aud": ["td:service:authentication"],
    "exp": int(datetime.datetime.now().timestamp()) + 3600,
    "iat": int(datetime.datetime.now().timestamp()),
    "iss": "wiki",
    "org_key": org_key,
    "multi-use": True,
    "pat": pat_switch,
    "sub": sub
}

bearer_token = jwt.encode(payload, private_key, algorithm="RS256", headers=headers)
headers = {'Accept': "application/json","Authorization": f"Bearer {bearer_token}"}

url = urlsystem+ "baas/jobs"
response = requests.get(url, headers=headers)

print(response.json())
