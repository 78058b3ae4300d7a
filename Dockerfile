# syntax=docker/dockerfile:1
# Vigil's production image: `docker build -t vigil .` then `docker run … vigil serve` (see docs/deploy.md).

# 1. Compile TypeScript with the dev dependencies.
FROM node:22-bookworm-slim AS build
WORKDIR /app
# better-sqlite3 and argon2 build natively when no prebuilt binary matches.
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ \
  && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
# The web UI (Vite) builds into dist/web beside the server.
COPY web ./web
RUN npm run build

# 2. Production dependencies only.
FROM node:22-bookworm-slim AS deps
WORKDIR /app
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ \
  && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

# 3. The runtime: no compilers, no dev dependencies, not root.
FROM node:22-bookworm-slim
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=8080 \
    DATA_DIR=/var/lib/vigil
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
RUN mkdir -p /var/lib/vigil && chown node:node /var/lib/vigil
# The `node` user (uid 1000) of the official image.
USER node
VOLUME ["/var/lib/vigil"]
# HTTP API; embedded MQTT broker (when MQTT_URL is unset); METRICS_ADDRESS if you set it to :9464.
EXPOSE 8080 1884 9464
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||8080)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
ENTRYPOINT ["node", "dist/main.js"]
CMD ["serve"]
