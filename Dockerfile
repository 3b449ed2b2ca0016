# syntax=docker/dockerfile:1
# The cortexctl image: the API (`cortexctl api`, the default command), the
# one-shot jobs (`cortexctl billing overage`, `db backup`, …) and the cron
# sidecar (supercronic). Built by
#
#   docker build -t cortexctl --build-arg VERSION=$(git describe --tags --always) \
#     --build-arg COMMIT=$(git rev-parse --short HEAD) \
#     --build-arg DATE=$(date -u +%Y-%m-%dT%H:%M:%SZ) .
#
# PG_MAJOR picks the pg_dump/pg_restore of the backups: it must be at least
# the production server's major (a pg_dump dumps any older server, never a
# newer one). See docs/operations.md#deploy; infra/infra_test.go checks this file.

ARG GO_VERSION=1.26.8
ARG DEBIAN_RELEASE=bookworm

# --- build: a static cortexctl and supercronic ------------------------------
FROM golang:${GO_VERSION}-${DEBIAN_RELEASE} AS build
ENV CGO_ENABLED=0
WORKDIR /src

# supercronic runs the crontab in the cron sidecar; pinned, from the Go module proxy.
ARG SUPERCRONIC_VERSION=v0.2.48
RUN --mount=type=cache,target=/go/pkg/mod \
    GOBIN=/out CGO_ENABLED=0 go install -trimpath -ldflags='-s -w' \
    "github.com/aptible/supercronic@${SUPERCRONIC_VERSION}"

COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download

COPY . .
# As the Makefile's build target: version, commit and date baked in.
ARG VERSION=dev
ARG COMMIT=unknown
ARG DATE=unknown
RUN --mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 go build -trimpath \
    -ldflags "-X main.version=${VERSION} -X main.commit=${COMMIT} -X main.date=${DATE}" \
    -o /out/cortexctl ./cmd/cortexctl \
    && /out/cortexctl version

# --- runtime: cortexctl, pg_dump/pg_restore of PG_MAJOR, CA certificates ----
FROM debian:${DEBIAN_RELEASE}-slim AS runtime
ARG DEBIAN_RELEASE
# The newest stable PostgreSQL major; at least the production server's.
ARG PG_MAJOR=18

# PostgreSQL's client from the PGDG apt repository (apt.postgresql.org), whose
# key is fetched over TLS; curl stays for the HEALTHCHECK.
RUN set -eux; \
    apt-get update; \
    apt-get install -y --no-install-recommends ca-certificates curl; \
    install -d /usr/share/postgresql-common/pgdg; \
    curl -fsSL -o /usr/share/postgresql-common/pgdg/apt.postgresql.org.asc \
      https://www.postgresql.org/media/keys/ACCC4CF8.asc; \
    echo "deb [signed-by=/usr/share/postgresql-common/pgdg/apt.postgresql.org.asc] https://apt.postgresql.org/pub/repos/apt ${DEBIAN_RELEASE}-pgdg main" \
      > /etc/apt/sources.list.d/pgdg.list; \
    apt-get update; \
    apt-get install -y --no-install-recommends "postgresql-client-${PG_MAJOR}"; \
    rm -rf /var/lib/apt/lists/*; \
    /usr/lib/postgresql/${PG_MAJOR}/bin/pg_dump --version

# The PG_MAJOR binaries first on PATH, whatever else the wrapper would pick.
ENV PATH=/usr/lib/postgresql/${PG_MAJOR}/bin:$PATH \
    CORTEXCTL_LOG_FORMAT=json

COPY --from=build /out/cortexctl /out/supercronic /usr/local/bin/

# A non-root user with a fixed uid (runAsNonRoot-friendly).
RUN groupadd --system --gid 10001 cortexctl \
    && useradd --system --uid 10001 --gid cortexctl --home-dir /home/cortexctl --create-home cortexctl
USER 10001:10001
WORKDIR /home/cortexctl

EXPOSE 8000
# Liveness of `cortexctl api` on its default address (API_ADDR=:8000). The
# cron sidecar overrides it (infra/docker-compose.yml).
HEALTHCHECK --interval=30s --timeout=3s --start-period=10s --retries=3 \
    CMD ["curl", "-fsS", "-o", "/dev/null", "http://127.0.0.1:8000/healthz"]

ENTRYPOINT ["cortexctl"]
CMD ["api"]
