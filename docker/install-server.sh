#!/bin/sh
# Installs the Quire server from packed tarballs into an app folder, as the
# Dockerfile's build stage does (and tests/packaging/docker-steps.test.ts,
# outside Docker): a package.json of its own and `npm install` of the
# @quire/core and @quire/server tarballs with their production dependencies.
# Usage: docker/install-server.sh <folder with quire-*.tgz> <app folder>
set -eu
packs=$1
app=$2
core=$(ls "$packs"/quire-core-*.tgz)
server=$(ls "$packs"/quire-server-*.tgz)
mkdir -p "$app"
cd "$app"
# ES modules, so that mounted reducers.ts/.js files are loaded as the CLI expects.
printf '{\n  "name": "quire-server-image",\n  "private": true,\n  "type": "module"\n}\n' > package.json
npm install --omit=dev --no-audit --no-fund --prefer-offline "$core" "$server"
# The app's reducers go here: mounted at run time, or copied in by a derived image.
mkdir -p reducers
