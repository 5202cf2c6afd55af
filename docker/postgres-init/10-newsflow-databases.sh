#!/usr/bin/env bash
# Creates the two databases newsflow needs on one PostgreSQL server, each with its own owner,
# plus a read-only login for downstream consumers of the news database.
#
# Consumers: migration 0002 grants the NOLOGIN role `newsflow_reader` SELECT on the
# `news_articles` view (and nothing else). This script creates that role up front and makes
# the consumer login a member of it, so the login can read exactly what the migrations expose.
# The news owner gets CREATEROLE because that migration creates the role when it is missing
# (on PostgreSQL 16 CREATEROLE only reaches roles the owner administers).
#
# The postgres image runs this once, on the first start of an empty data volume
# (/docker-entrypoint-initdb.d). It is idempotent, so it can also be run by hand (or by the
# tests, natively) against an existing server: set PGHOST/PGPORT and the variables below.
#
#   AIRFLOW_DB_NAME / AIRFLOW_DB_USER / AIRFLOW_DB_PASSWORD     Airflow's metadata database
#   NEWSFLOW_DB_NAME / NEWSFLOW_DB_USER / NEWSFLOW_DB_PASSWORD  the news database (its owner
#                                                               runs the migrations)
#   NEWSFLOW_READER_USER / NEWSFLOW_READER_PASSWORD             consumer login (newsflow_reader)
#
# Values travel as psql variables and are quoted by format(%I/%L), never spliced into SQL.
set -euo pipefail

: "${AIRFLOW_DB_PASSWORD:?}" "${NEWSFLOW_DB_PASSWORD:?}" "${NEWSFLOW_READER_PASSWORD:?}"

psql_admin() {
    psql -v ON_ERROR_STOP=1 -X -q \
        --username "${POSTGRES_USER:-postgres}" --dbname "${1}" \
        -v airflow_db="${AIRFLOW_DB_NAME:-airflow}" \
        -v airflow_user="${AIRFLOW_DB_USER:-airflow}" \
        -v airflow_pw="${AIRFLOW_DB_PASSWORD}" \
        -v news_db="${NEWSFLOW_DB_NAME:-news}" \
        -v news_user="${NEWSFLOW_DB_USER:-newsflow}" \
        -v news_pw="${NEWSFLOW_DB_PASSWORD}" \
        -v reader_user="${NEWSFLOW_READER_USER:-news_reader}" \
        -v reader_pw="${NEWSFLOW_READER_PASSWORD}"
}

# Roles and databases (cluster-wide objects), created only when missing.
psql_admin "${POSTGRES_DB:-postgres}" <<'SQL'
SET client_min_messages = warning;
SELECT format('CREATE ROLE %I LOGIN PASSWORD %L', :'airflow_user', :'airflow_pw')
 WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'airflow_user') \gexec
SELECT format('CREATE ROLE %I LOGIN CREATEROLE PASSWORD %L', :'news_user', :'news_pw')
 WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'news_user') \gexec
SELECT format('CREATE ROLE %I LOGIN PASSWORD %L', :'reader_user', :'reader_pw')
 WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'reader_user') \gexec
SELECT format('ALTER ROLE %I CREATEROLE', :'news_user') \gexec
SELECT 'CREATE ROLE newsflow_reader NOLOGIN'
 WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'newsflow_reader') \gexec
SELECT format('GRANT newsflow_reader TO %I WITH ADMIN OPTION', :'news_user') \gexec
SELECT format('GRANT newsflow_reader TO %I', :'reader_user') \gexec
SELECT format('ALTER ROLE %I SET default_transaction_read_only = on', :'reader_user') \gexec

SELECT format('CREATE DATABASE %I OWNER %I ENCODING %L TEMPLATE template0', :'airflow_db', :'airflow_user', 'UTF8')
 WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = :'airflow_db') \gexec
SELECT format('CREATE DATABASE %I OWNER %I ENCODING %L TEMPLATE template0', :'news_db', :'news_user', 'UTF8')
 WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = :'news_db') \gexec

-- Nobody but the owners and the consumer role may connect.
SELECT format('REVOKE ALL ON DATABASE %I FROM PUBLIC', :'airflow_db') \gexec
SELECT format('REVOKE ALL ON DATABASE %I FROM PUBLIC', :'news_db') \gexec
SELECT format('GRANT CONNECT ON DATABASE %I TO newsflow_reader', :'news_db') \gexec
SQL

echo "newsflow: databases ${AIRFLOW_DB_NAME:-airflow} and ${NEWSFLOW_DB_NAME:-news} ready"
