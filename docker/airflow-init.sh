#!/usr/bin/env bash
# One-shot initialisation run by the `airflow-init` compose service before any other Airflow
# component starts (they depend on its successful completion). Every step is idempotent, so
# the service runs on every `docker compose up`, and after an image upgrade it is what applies
# the new migrations — Airflow's and newsflow's — before the new code serves anything.
#
# Reads only the environment the compose file gives it; the tests run this very script
# natively with that environment against a local PostgreSQL.
set -euo pipefail

log() { printf 'airflow-init: %s\n' "$*"; }

: "${AIRFLOW_ADMIN_PASSWORD:?AIRFLOW_ADMIN_PASSWORD must be set (see .env.example)}"
: "${NEWSFLOW_DATABASE_URL:?NEWSFLOW_DATABASE_URL must be set}"
admin_user="${AIRFLOW_ADMIN_USERNAME:-admin}"
pool_slots="${NEWSFLOW_CRAWL_POOL_SLOTS:-4}"
executor="${AIRFLOW__CORE__EXECUTOR:-LocalExecutor}"

log "$(airflow version 2>/dev/null | tail -n 1) with ${executor}"

log "waiting for Airflow's metadata database"
airflow db check --retry 30 --retry-delay 2

log "migrating Airflow's metadata database"
airflow db migrate

log "checking ${NEWSFLOW_SOURCES:-sources.yaml}"
newsflow sources check "${NEWSFLOW_SOURCES:-sources.yaml}" >/dev/null

log "migrating the news database"
for attempt in $(seq 1 30); do
    if newsflow db upgrade; then
        break
    fi
    if [[ "${attempt}" == 30 ]]; then
        log "news database unreachable or migration failed; giving up"
        exit 1
    fi
    sleep 2
done

auth_manager="${AIRFLOW__CORE__AUTH_MANAGER:-SimpleAuthManager}"
if [[ "${auth_manager}" == *fab* ]]; then
    log "creating the FAB admin user ${admin_user}"
    airflow users create --role Admin --username "${admin_user}" \
        --password "${AIRFLOW_ADMIN_PASSWORD}" --firstname newsflow --lastname admin \
        --email "${AIRFLOW_ADMIN_EMAIL:-admin@example.org}" \
        || airflow users reset-password --username "${admin_user}" --password "${AIRFLOW_ADMIN_PASSWORD}"
else
    # The simple auth manager reads users from [core] simple_auth_manager_users and their
    # passwords from this JSON file; writing it here keeps the password out of the image.
    passwords_file="${AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE:?}"
    log "writing the admin login ${admin_user} to ${passwords_file}"
    mkdir -p "$(dirname "${passwords_file}")"
    umask 077
    ADMIN_USER="${admin_user}" python - "${passwords_file}" <<'PY'
import json
import os
import sys

with open(sys.argv[1], "w", encoding="utf-8") as fh:
    json.dump({os.environ["ADMIN_USER"]: os.environ["AIRFLOW_ADMIN_PASSWORD"]}, fh)
PY
fi

log "setting crawl_pool to ${pool_slots} slots"
airflow pools set crawl_pool "${pool_slots}" "Concurrent crawls (Scrapy subprocesses) across all sources" >/dev/null

if [[ "${executor}" == *CeleryExecutor* ]]; then
    log "CeleryExecutor selected: the 'celery' profile (redis + airflow-worker) must be enabled"
fi

log "done"
