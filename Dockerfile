# One image for every Gatehouse service; docker-compose.yml picks the service with `command`.
FROM node:20-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm install --omit=dev --no-audit --no-fund

FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production HOST=0.0.0.0
COPY --from=deps /app/node_modules ./node_modules
COPY package.json tsconfig.json supergraph.yaml supergraph.graphql roles.yaml ./
COPY auth ./auth
COPY service ./service
COPY gateway ./gateway
COPY subgraphs ./subgraphs
USER node
# Overridden per service in docker-compose.yml.
CMD ["node_modules/.bin/tsx", "gateway/main.ts"]
