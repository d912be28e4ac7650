#!/usr/bin/env bash
# Back up the portal: the PostgreSQL database and the uploaded documents and letters.
#
#   DATABASE_URL=postgres://... MEDIA_ROOT=/srv/portal/media scripts/backup.sh /backups/2026-11-26
#
# Writes db.dump (pg_dump custom format), media.tar.gz and SHA256SUMS into the folder, which
# must not exist yet. Safe while the portal runs: pg_dump reads one consistent snapshot.
set -euo pipefail

target=${1:?usage: backup.sh TARGET_FOLDER}
: "${DATABASE_URL:?DATABASE_URL must point at the PostgreSQL database}"
: "${MEDIA_ROOT:?MEDIA_ROOT must be the folder of uploaded documents and letters}"

if [ -e "$target" ]; then
  echo "backup.sh: $target already exists; choose a new folder" >&2
  exit 1
fi
mkdir -p "$target"

pg_dump --format=custom --no-owner --no-privileges --file="$target/db.dump" "$DATABASE_URL"
tar --create --gzip --file="$target/media.tar.gz" --directory="$MEDIA_ROOT" .
(cd "$target" && sha256sum db.dump media.tar.gz > SHA256SUMS)
echo "backup written to $target"
