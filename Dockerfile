# syntax=docker/dockerfile:1
# One image for every Gatehouse service; docker-compose.yml and deploy/k8s pick the service with `command`
# (node dist/gateway/main.js, node dist/subgraphs/<name>/main.js). Build: docker build -t gatehouse:0.1.0 .
# The current Node.js LTS, pinned by version; the code also runs on Node 20.19 and later (what CI tests).
ARG NODE_IMAGE=node:26.10.0-trixie-slim

# 1. Compile: every dependency, the sources, `npm run build` → dist/.
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY scripts/build.ts ./scripts/build.ts
COPY auth ./auth
COPY service ./service
COPY gateway ./gateway
COPY subgraphs ./subgraphs
RUN npm run build

# 2. Production dependencies only, from the lock file.
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

# 3. What runs: compiled code, production dependencies, the supergraph and the roles file; no TypeScript, no
#    compiler, no tests. Files belong to root and are read-only to the service's user.
FROM ${NODE_IMAGE}
ENV NODE_ENV=production HOST=0.0.0.0 PORT=4000
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json supergraph.graphql roles.yaml ./
USER node
EXPOSE 4000
# Every service answers /health/ready on its PORT (set per service by compose and Kubernetes).
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 4000) + '/health/ready').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
CMD ["node", "dist/gateway/main.js"]
