#!/usr/bin/env bash
# Restore a backup made by backup.sh into an EMPTY database and an empty media folder.
#
#   DATABASE_URL=postgres://.../portal_restored MEDIA_ROOT=/srv/portal/media scripts/restore.sh /backups/2026-11-26
#
# Checks the backup's SHA256SUMS first; refuses a database that already has tables, so that
# a restore never mixes with live data. Run `manage.py migrate` afterwards when the code is
# newer than the backup.
set -euo pipefail

source=${1:?usage: restore.sh BACKUP_FOLDER}
: "${DATABASE_URL:?DATABASE_URL must point at the empty target database}"
: "${MEDIA_ROOT:?MEDIA_ROOT must be the folder to restore documents and letters into}"

(cd "$source" && sha256sum --check --quiet SHA256SUMS)

tables=$(psql "$DATABASE_URL" --tuples-only --no-align \
  --command="select count(*) from information_schema.tables where table_schema = 'public'")
if [ "$tables" != "0" ]; then
  echo "restore.sh: the target database has $tables tables; restore only into an empty one" >&2
  exit 1
fi
if [ -d "$MEDIA_ROOT" ] && [ -n "$(ls -A "$MEDIA_ROOT")" ]; then
  echo "restore.sh: $MEDIA_ROOT is not empty; restore only into an empty folder" >&2
  exit 1
fi

pg_restore --no-owner --no-privileges --exit-on-error --dbname="$DATABASE_URL" "$source/db.dump"
mkdir -p "$MEDIA_ROOT"
tar --extract --gzip --file="$source/media.tar.gz" --directory="$MEDIA_ROOT"
echo "restored $source"
