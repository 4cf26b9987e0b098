# millwright model container, SageMaker bring-your-own-container style:
#   docker run IMAGE train   -> millwright train $MILLWRIGHT_PACKAGE  (reads /opt/ml/input, writes /opt/ml/model)
#   docker run IMAGE serve   -> millwright serve  (serves /opt/ml/model on 0.0.0.0:8080)
# Any other millwright command works the same way (docker run IMAGE registry list ...).

# --- build: install all deps, compile TypeScript to dist/, then drop dev deps ---
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# onnxruntime-node's install script would download GPU binaries; the CPU build ships in the package.
RUN ONNXRUNTIME_NODE_INSTALL=skip npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json tsconfig.container.json ./
COPY cli ./cli
COPY lib ./lib
COPY serve ./serve
COPY reports ./reports
# The image's program: cli/container.ts with lib/, serve/ and reports/ (no datasets/, no demo).
RUN node node_modules/typescript/bin/tsc -p tsconfig.container.json && npm prune --omit=dev --no-audit --no-fund

# --- runtime: slim Node, compiled JS and production deps only, non-root ---
FROM node:20-bookworm-slim
ENV NODE_ENV=production \
    MILLWRIGHT_HOST=0.0.0.0 \
    SM_MODEL_DIR=/opt/ml/model \
    MILLWRIGHT_REGISTRY=/var/lib/millwright/registry \
    MILLWRIGHT_PACKAGE=random-forest-regression
WORKDIR /app
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
# Directories that volumes mount over must exist and belong to the runtime user.
RUN mkdir -p /opt/ml/model /opt/ml/input /opt/ml/output \
      /var/lib/millwright/registry /var/lib/millwright/capture /var/lib/millwright/reports \
 && chown -R node:node /opt/ml /var/lib/millwright
USER node
EXPOSE 8080
# SIGTERM reaches node directly (exec form, PID 1): in-flight requests finish, then exit.
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=15s --timeout=3s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.SAGEMAKER_BIND_TO_PORT||8080)+'/ping').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# A 16 MiB young generation for the server (serve/node-flags.ts SERVE_NODE_FLAGS; NODE_OPTIONS refuses them).
ENTRYPOINT ["node", "--min-semi-space-size=16", "--max-semi-space-size=16", "/app/dist/cli/container.js"]
CMD ["serve"]
