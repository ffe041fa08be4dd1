// The system's OpenSSL libcrypto (Debian libssl-dev), for RSA signing: OpenSSL 3 has an
// AVX-512 IFMA path for RSA-2048 that BoringSSL (swift-crypto) lacks. BoringSSL's symbols are
// prefixed (CCryptoBoringSSL_, CNIOBoringSSL_), so the two libraries live side by side.
#ifndef TESSERA_COPENSSLCRYPTO_SHIM_H
#define TESSERA_COPENSSLCRYPTO_SHIM_H

#define OPENSSL_API_COMPAT 30000
#define OPENSSL_NO_DEPRECATED 1

#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/opensslv.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#endif
