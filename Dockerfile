# The shadowtest image: a static binary on distroless, running as non-root.
#
#   docker build -t shadowtest .
#   docker run --rm shadowtest demo              # the demo, inside the container
#   docker run --rm -v "$PWD:/work" -w /work shadowtest run specs/ -t prod=... -t shadow=...
#
# `docker build .` compiles from source (stage `build`, then the last stage).
# GoReleaser builds the stage `release` instead (--target=release): it copies
# the binary GoReleaser already built for the platform.

FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=""
ARG COMMIT=""
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION} -X main.commit=${COMMIT}" -o /out/shadowtest ./cmd/shadowtest

# distroless/static: CA certificates, tzdata, /tmp, and the user nonroot
# (65532) with its home /home/nonroot; no shell, no package manager.
FROM gcr.io/distroless/static-debian12:nonroot AS base
USER nonroot:nonroot
WORKDIR /home/nonroot
ENTRYPOINT ["/usr/local/bin/shadowtest"]
CMD ["--help"]

FROM base AS release
ARG TARGETPLATFORM
COPY ${TARGETPLATFORM}/shadowtest /usr/local/bin/shadowtest

FROM base AS source
COPY --from=build /out/shadowtest /usr/local/bin/shadowtest
