# Tessera in a container: a release build with the Swift standard library linked in, on Debian 12
# slim with only the libraries the binary needs. Data (SQLite database, master key) in the volume
# /var/lib/tessera. Build and run (docs: "Install", the container route):
#   docker build -t tessera:0.16.0 .
#   docker run -d --name tessera -p 8080:8080 -v tessera-data:/var/lib/tessera \
#       -e TESSERA_BOOTSTRAP_ORG=example -e TESSERA_BOOTSTRAP_USER=admin tessera:0.16.0
# Every `tessera serve` setting is an environment variable (TESSERA_*; `tessera serve --help`).

ARG SWIFT_IMAGE=swift:6.3-bookworm
ARG RUNTIME_IMAGE=debian:bookworm-slim

FROM ${SWIFT_IMAGE} AS build
# The system's libcrypto (Package.swift: COpenSSLCrypto, through pkg-config), and libcurl.so for
# the static link of Foundation's URLSession.
RUN apt-get update \
    && apt-get install -y --no-install-recommends libssl-dev libcurl4-openssl-dev pkg-config binutils \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
# Dependencies first, in their own layer: they change less often than the sources.
# Package.swift, and Package.resolved when there is one (pinned versions).
COPY Package.* ./
RUN swift package resolve
COPY Sources ./Sources
RUN swift build -c release --static-swift-stdlib --product tessera \
    && bin="$(swift build -c release --show-bin-path)" \
    && mkdir -p /staging/usr/lib/tessera /staging/usr/bin \
    && install -m 0755 "$bin/tessera" /staging/usr/lib/tessera/tessera \
    && strip --strip-all /staging/usr/lib/tessera/tessera \
    && cp -R "$bin/tessera_TesseraServer.resources" /staging/usr/lib/tessera/ \
    && ln -s ../lib/tessera/tessera /staging/usr/bin/tessera \
    && /staging/usr/bin/tessera --version

FROM ${RUNTIME_IMAGE}
# What the binary links (scripts/package computes the same list for the .deb with dpkg-shlibdeps:
# libc6, libcurl4, libgcc-s1, libssl3, libstdc++6). ca-certificates for PostgreSQL with
# sslmode=require.
RUN apt-get update \
    && apt-get install -y --no-install-recommends libcurl4 libssl3 libstdc++6 libgcc-s1 ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --user-group --home-dir /var/lib/tessera --no-create-home --shell /usr/sbin/nologin tessera \
    && install -d -o tessera -g tessera -m 0700 /var/lib/tessera
# The binary and its resource bundle (the OpenAPI document) side by side: Bundle.module looks
# for tessera_TesseraServer.resources next to the executable.
COPY --from=build /staging/ /
ENV TESSERA_HOST=0.0.0.0 \
    TESSERA_PORT=8080 \
    TESSERA_DATABASE=sqlite:/var/lib/tessera/tessera.sqlite \
    TESSERA_MASTER_KEY_FILE=/var/lib/tessera/master.key
USER tessera:tessera
WORKDIR /var/lib/tessera
VOLUME ["/var/lib/tessera"]
EXPOSE 8080
# No curl in the image: bash's /dev/tcp asks GET /health and wants a 200.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/${TESSERA_PORT:-8080} && printf 'GET /health HTTP/1.0\\r\\nHost: localhost\\r\\n\\r\\n' >&3 && head -n 1 <&3 | grep -q ' 200 '"]
# SIGTERM (docker stop) shuts down gracefully.
ENTRYPOINT ["/usr/bin/tessera"]
CMD ["serve"]
