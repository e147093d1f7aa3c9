# syntax=docker/dockerfile:1
# Plinth node agent (CSI Identity + Node): runs privileged, as root, with the host's /dev, /sys and kubelet dir.
# Build from the repository root:  docker build -f infra/docker/node-agent.Dockerfile -t plinth-node-agent .
# (infra/docker/node-agent.Dockerfile.dockerignore keeps node_modules, .plinth and test output out of the context.)
ARG NODE_IMAGE=node:24-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /src
COPY . .
RUN --mount=type=cache,target=/root/.npm npm ci --ignore-scripts --no-audit --no-fund
# One ESM file with every dependency, made by the one bundling step the tests run too (scripts/bundle.mjs):
# /out/node-agent/dist/node-agent.mjs beside the app's package.json, where the app reads its version.
RUN node scripts/bundle.mjs --outdir /out node-agent

FROM ${NODE_IMAGE}
# mkfs.ext4/e2fsck/resize2fs/dumpe2fs (e2fsprogs), mkfs.xfs/xfs_growfs/xfs_info (xfsprogs), blkid/blockdev
# (util-linux), mount/umount (mount), nvme-cli for operators. Versions come from the pinned Debian release.
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends e2fsprogs xfsprogs util-linux mount nvme-cli \
 && rm -rf /var/lib/apt/lists/*
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /out/node-agent/dist/node-agent.mjs dist/node-agent.mjs
# The app reads its version from ../package.json relative to the bundle at start.
COPY --from=build /out/node-agent/package.json package.json
EXPOSE 3302
# --max-semi-space-size=4 (MiB): V8's young generation otherwise grows to 3 × 16 MiB under load; at 4 the
# controller's peak RSS over 100 lifecycles fell from 221 to 181 MB at the same CPU (docs/benchmarks.md). The tests
# and benchmarks run the bundle with these same arguments (test/support/app.ts reads this line).
ENTRYPOINT ["node", "--max-semi-space-size=4", "dist/node-agent.mjs"]
