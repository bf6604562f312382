# Pipeline API — container image. Build: docker build -t crm-api .
# The binary carries its migrations, openapi.yaml and the /docs page (Redoc,
# installed with npm at build time); it needs only DATABASE_URL.

FROM debian:12-slim AS build
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      build-essential pkg-config \
      libulfius-dev libjansson-dev libpq-dev liborcania-dev libyder-dev \
      libxlsxwriter-dev libcurl4-gnutls-dev libgnutls28-dev libmicrohttpd-dev \
      nodejs npm \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN make bin/crm-api

FROM debian:12-slim
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      libulfius2.7 libjansson4 libpq5 liborcania2.3 libyder2.0 libxlsxwriter4 \
      ca-certificates curl \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --user-group --no-create-home --home-dir /nonexistent \
      --shell /usr/sbin/nologin crm
COPY --from=build /src/bin/crm-api /usr/local/bin/crm-api
USER crm
ENV BIND=0.0.0.0 PORT=8080
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
  CMD curl -fsS -o /dev/null "http://127.0.0.1:${PORT}/readyz" || exit 1
STOPSIGNAL SIGTERM
CMD ["crm-api", "serve"]
