# syntax=docker/dockerfile:1
# Plinth admin API.
# Build from the repository root:  docker build -f infra/docker/api.Dockerfile -t plinth-api .
# (infra/docker/api.Dockerfile.dockerignore keeps node_modules, .plinth and test output out of the context.)
ARG NODE_IMAGE=node:24-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /src
COPY . .
RUN --mount=type=cache,target=/root/.npm npm ci --ignore-scripts --no-audit --no-fund
# One ESM file with every dependency. The banner gives bundled CommonJS code require, __filename and __dirname.
RUN npx esbuild apps/api/src/main.ts --bundle --platform=node --target=node24 --format=esm --conditions=plinth-src \
      --legal-comments=none --outfile=dist/api.mjs \
      "--banner:js=import { createRequire as __plinthRequire } from 'node:module'; import { fileURLToPath as __plinthPath } from 'node:url'; const require = __plinthRequire(import.meta.url); const __filename = __plinthPath(import.meta.url); const __dirname = __plinthPath(new URL('.', import.meta.url));"

FROM ${NODE_IMAGE}
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /src/dist/api.mjs dist/api.mjs
# The app reads its version from ../package.json relative to the bundle at start.
COPY --from=build /src/apps/api/package.json package.json
# @fastify/swagger-ui serves /docs from <its dir>/../static and reads <its dir>/static/logo.svg; bundled, its
# dir is /app/dist.
COPY --from=build /src/node_modules/@fastify/swagger-ui/static static
COPY --from=build /src/node_modules/@fastify/swagger-ui/static/logo.svg dist/static/logo.svg
USER 65532:65532
EXPOSE 8080
ENTRYPOINT ["node", "dist/api.mjs"]
