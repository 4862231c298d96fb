#!/bin/sh
# First start of the PostgreSQL container: the login role the portal connects as, with its
# password from the environment. `portal db roles` (the migrate job) then grants it least privilege.
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
  -v pw="$PORTAL_APP_DB_PASSWORD" <<'SQL'
CREATE ROLE portal_app LOGIN PASSWORD :'pw';
SQL
