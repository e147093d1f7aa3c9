# syntax=docker/dockerfile:1
# Plinth controller (CSI Identity + Controller).
# Build from the repository root:  docker build -f infra/docker/controller.Dockerfile -t plinth-controller .
# (infra/docker/controller.Dockerfile.dockerignore keeps node_modules, .plinth and test output out of the context.)
ARG NODE_IMAGE=node:24-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /src
COPY . .
RUN --mount=type=cache,target=/root/.npm npm ci --ignore-scripts --no-audit --no-fund
# One ESM file with every dependency. The banner gives bundled CommonJS code require, __filename and __dirname.
RUN npx esbuild apps/controller/src/main.ts --bundle --platform=node --target=node24 --format=esm --conditions=plinth-src \
      --legal-comments=none --outfile=dist/controller.mjs \
      "--banner:js=import { createRequire as __plinthRequire } from 'node:module'; import { fileURLToPath as __plinthPath } from 'node:url'; const require = __plinthRequire(import.meta.url); const __filename = __plinthPath(import.meta.url); const __dirname = __plinthPath(new URL('.', import.meta.url));"

FROM ${NODE_IMAGE}
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /src/dist/controller.mjs dist/controller.mjs
# The app reads its version from ../package.json relative to the bundle at start.
COPY --from=build /src/apps/controller/package.json package.json
USER 65532:65532
EXPOSE 3301
ENTRYPOINT ["node", "dist/controller.mjs"]
