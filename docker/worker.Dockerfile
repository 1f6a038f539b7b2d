# Image for `pipeline worker` (and `pipeline run` inside compose).
# GPU (default): CUDA 11.2 + cuDNN 8, which the libtensorflow 2.9.1 behind @tensorflow/tfjs-node-gpu 4.22 needs.
# CPU: docker build --build-arg BASE=node:20-bookworm-slim --build-arg TFJS=@tensorflow/tfjs-node@4.22.0 ...
ARG BASE=nvidia/cuda:11.2.2-cudnn8-runtime-ubuntu20.04
FROM ${BASE}
ARG TFJS=@tensorflow/tfjs-node-gpu@4.22.0

# Node 20 and the build tools the tfjs-node addon needs (the CPU base image already has Node).
RUN if ! command -v node >/dev/null; then \
      apt-get update && apt-get install -y --no-install-recommends ca-certificates curl gnupg \
      && curl -fsSL https://deb.nodesource.com/setup_20.x | bash - \
      && apt-get install -y --no-install-recommends nodejs; \
    fi \
    && apt-get update && apt-get install -y --no-install-recommends python3 make g++ \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY package.json package-lock.json tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm ci --omit=optional && npm install --no-save "${TFJS}" && npm run build && npm prune --omit=dev
COPY pipelines ./pipelines
COPY experiments ./experiments
COPY data ./data

ENV NODE_ENV=production
ENTRYPOINT ["node", "/app/dist/cli.js"]
CMD ["worker", "--devices", "cpu"]
