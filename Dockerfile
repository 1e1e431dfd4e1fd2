# Multi-stage build: compile better-sqlite3 with the toolchain, ship only the runtime.
FROM node:22-bookworm-slim AS build
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund

FROM node:22-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY package.json manifest.yml ./
COPY bin ./bin
COPY db ./db
COPY src ./src
# The image's own user, not root; the data volume is mounted at /var/lib/slipway.
RUN mkdir -p /var/lib/slipway && chown node:node /var/lib/slipway
USER node
# 3000: Slack and /healthz; 9090 (METRICS_PORT): /readyz and /metrics, for the kubelet and Prometheus.
EXPOSE 3000 9090
ENV DATABASE_PATH=/var/lib/slipway/slipway.db
CMD ["node", "--import", "tsx", "src/cli.ts", "serve"]
