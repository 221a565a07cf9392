# syntax=docker/dockerfile:1
# Build: cgo is needed for the embedded SQLite driver.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=1 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/smiledash ./cmd/smiledash

# Run: a small Debian with CA certificates, as a non-root user, data on a volume.
FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates tzdata \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --home-dir /data --shell /usr/sbin/nologin smiledash \
    && mkdir -p /data && chown smiledash /data
COPY --from=build /out/smiledash /usr/local/bin/smiledash
USER smiledash
WORKDIR /data
ENV SMILEDASH_DATA_DIR=/data SMILEDASH_ADDR=:8080
VOLUME ["/data"]
EXPOSE 8080
HEALTHCHECK --interval=15s --timeout=3s --start-period=10s --retries=3 \
    CMD ["smiledash", "healthcheck"]
ENTRYPOINT ["smiledash"]
CMD ["serve"]
