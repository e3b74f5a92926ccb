# cairn in a container: a static binary on a slim image, run as a non-root
# user, data in the /var/lib/cairn volume.
#
#   docker build -t cairn .
#   docker run -d -p 3306:3306 -v cairn-data:/var/lib/cairn -e CAIRN_ROOT_PASSWORD=secret cairn
#
# The root password comes from CAIRN_ROOT_PASSWORD or from the file named by
# CAIRN_ROOT_PASSWORD_FILE (a Docker secret); it applies on the first start,
# which makes the users.

FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -ldflags="-s -w" -o /out/cairn ./cmd/cairn

FROM debian:bookworm-slim
RUN useradd --system --uid 10001 --home-dir /var/lib/cairn --shell /usr/sbin/nologin cairn \
	&& mkdir -p /var/lib/cairn && chown cairn:cairn /var/lib/cairn
COPY --from=build /out/cairn /usr/local/bin/cairn
USER cairn
VOLUME /var/lib/cairn
EXPOSE 3306
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s \
	CMD ["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/3306"]
ENTRYPOINT ["cairn", "sql-server", "--host", "0.0.0.0", "--data-dir", "/var/lib/cairn"]
