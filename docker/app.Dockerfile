# A derived image with the app's reducers (and their dependencies) built in,
# from the app's own folder:
#
#   docker build -t my-app-server -f app.Dockerfile .
#   docker run --init -p 8787:8787 -v my-app-data:/data my-app-server
#
# Reducers at /app/reducers import @quire/core from /app/node_modules and
# their own dependencies from /app/reducers/node_modules.
FROM quire-server
COPY --chown=node:node package.json package-lock.json /app/reducers/
RUN cd /app/reducers && npm ci --omit=dev --no-audit --no-fund
COPY --chown=node:node reducers.ts /app/reducers/reducers.ts
