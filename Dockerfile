# syntax=docker/dockerfile:1
# Build: docker build -t hoinghi .
# Run:   docker run -p 8080:8080 -p 50000:50000/udp -p 50000:50000/tcp \
#          -e HOINGHI_MEDIA_PUBLIC_IPS=<this host's IP> -v hoinghi-data:/data hoinghi

FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -buildvcs=false -ldflags="-s -w" -o /out/hoinghi ./cmd/hoinghi \
    && mkdir -p /out/data

# Debian, for its ffmpeg: it composes the recordings' archive and runs the
# livestream.
FROM debian:12-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends ffmpeg ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 65532 --user-group --home-dir /data --no-create-home nonroot
COPY --from=build /out/hoinghi /usr/local/bin/hoinghi
COPY --from=build --chown=nonroot:nonroot /out/data /data
# Listen on every address inside the container; links still print as
# http://localhost:8080, which is right for a browser on the Docker host.
ENV HOINGHI_LISTEN=0.0.0.0:8080 \
    HOINGHI_DATA_DIR=/data
VOLUME /data
EXPOSE 8080/tcp 50000/udp 50000/tcp 3478/udp 3478/tcp
USER nonroot:nonroot
ENTRYPOINT ["/usr/local/bin/hoinghi"]
