# syntax=docker/dockerfile:1
# Plinth admin API.
# Build from the repository root:  docker build -f infra/docker/api.Dockerfile -t plinth-api .
# (infra/docker/api.Dockerfile.dockerignore keeps node_modules, .plinth and test output out of the context.)
ARG NODE_IMAGE=node:24-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /src
COPY . .
RUN --mount=type=cache,target=/root/.npm npm ci --ignore-scripts --no-audit --no-fund
# One ESM file with every dependency, made by the one bundling step the tests run too (scripts/bundle.mjs):
# /out/api/dist/api.mjs beside the app's package.json, where the app reads its version.
RUN node scripts/bundle.mjs --outdir /out api

FROM ${NODE_IMAGE}
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /out/api/dist/api.mjs dist/api.mjs
# The app reads its version from ../package.json relative to the bundle at start.
COPY --from=build /out/api/package.json package.json
# @fastify/swagger-ui serves /docs from <its dir>/../static and reads <its dir>/static/logo.svg; bundled, its
# dir is /app/dist.
COPY --from=build /src/node_modules/@fastify/swagger-ui/static static
COPY --from=build /src/node_modules/@fastify/swagger-ui/static/logo.svg dist/static/logo.svg
USER 65532:65532
EXPOSE 8080
# --max-semi-space-size=4 (MiB): V8's young generation otherwise grows to 3 × 16 MiB under load; at 4 the
# controller's peak RSS over 100 lifecycles fell from 221 to 181 MB at the same CPU (docs/benchmarks.md). The tests
# and benchmarks run the bundle with these same arguments (test/support/app.ts reads this line).
ENTRYPOINT ["node", "--max-semi-space-size=4", "dist/api.mjs"]
