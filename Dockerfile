# The Quire sync server. The app's reducers are not in this image: mount them
# at /app/reducers (reducers.ts, or .js, exporting defineApp/defineReducers),
# or build a derived image that copies them in (docker/app.Dockerfile).
#
#   docker build -t quire-server .
#   docker run --init -p 8787:8787 -v "$PWD/reducers:/app/reducers:ro" -v quire-data:/data quire-server
#
# See docs/OPERATIONS.md ("Docker"). CI runs these build steps outside Docker
# (tests/packaging/docker-steps.test.ts); it does not build this image.

# Build: the workspace, packed into tarballs, installed into /app as an app
# outside the repository would. The full Debian image has python3, make and
# g++ for better-sqlite3 where no prebuilt binary downloads.
FROM node:20-bookworm AS build
WORKDIR /src
COPY . .
RUN npm run pack -- --out /packs
RUN sh docker/install-server.sh /packs /app

# Run: the same Debian and Node, without the build tools.
FROM node:20-bookworm-slim
ENV NODE_ENV=production \
    QUIRE_HEALTH_URL=http://127.0.0.1:8787/healthz
COPY --from=build /app /app
COPY docker/healthcheck.mjs /app/healthcheck.mjs
# The data volume belongs to the image's non-root user (node, uid 1000).
RUN mkdir -p /data && chown node:node /data
USER node
WORKDIR /app
VOLUME /data
EXPOSE 8787
HEALTHCHECK --interval=10s --timeout=5s --start-period=20s --retries=3 CMD ["node", "/app/healthcheck.mjs"]
# Exec form: node is PID 1 and gets SIGTERM itself, drains, and exits 0.
# Docker waits 10 s before SIGKILL: the drain deadline stays under it (or
# raise both: docker stop -t 30, compose stop_grace_period).
ENTRYPOINT ["node", "/app/node_modules/@quire/server/bin/quire.js"]
# Inside the container the server must listen on every interface to be reached through -p.
CMD ["serve", "--reducers", "/app/reducers/reducers.ts", "--data", "/data", "--host", "0.0.0.0", "--port", "8787", "--drain-timeout-ms", "8000"]
