#!/bin/bash
# The standby of compose.yaml: on its first start a copy of the primary made with
# `pg_basebackup -R` (which writes standby.signal and primary_conninfo), then PostgreSQL as a
# hot standby that the API processes read their views from. Runs as the image's postgres user.
set -euo pipefail
if [ ! -s "$PGDATA/PG_VERSION" ]; then
  until pg_basebackup --host=primary --username=replicator --pgdata="$PGDATA" \
      --write-recovery-conf --wal-method=stream --checkpoint=fast; do
    echo "replica: the primary is not ready for a base backup yet; trying again" >&2
    rm -rf "${PGDATA:?}"/*
    sleep 2
  done
  chmod 0700 "$PGDATA"
fi
exec postgres -c hot_standby=on
