#!/usr/bin/env bash
# Install (if needed) and start a local PostgreSQL server for Tandem's tests and benches,
# with a role and database "tandem" (password "tandem"). Idempotent: safe on a warm machine.
# PostgreSQL refuses to run as root, so the Debian cluster runs as the postgres user.
set -euo pipefail

as_postgres() {
  if [ "$(id -u)" = 0 ]; then su postgres -c "$1"; else sudo -u postgres bash -c "$1"; fi
}
as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}
# apt_get: apt-get as root that waits for another apt's lock instead of failing
source "$(dirname "${BASH_SOURCE[0]}")/apt.sh"

if ! ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1; then
  echo "postgres.sh: installing PostgreSQL from Debian's packages"
  apt_get update -qq
  apt_get install -y -qq postgresql >/dev/null
fi

version=$(ls /usr/lib/postgresql | sort -V | tail -n 1)
if ! pg_lsclusters -h | awk '{print $1" "$2}' | grep -q "^$version main$"; then
  as_root pg_createcluster "$version" main >/dev/null
fi
if ! pg_lsclusters -h | awk -v v="$version" '$1==v && $2=="main" {print $4}' | grep -q online; then
  as_root pg_ctlcluster --skip-systemctl-redirect "$version" main start
fi

for _ in $(seq 1 60); do
  if pg_isready -q -h 127.0.0.1 -p 5432; then break; fi
  sleep 0.5
done
pg_isready -h 127.0.0.1 -p 5432 >/dev/null || { echo "postgres.sh: server did not come up" >&2; exit 1; }

as_postgres "psql -qtAc \"select 1 from pg_roles where rolname='tandem'\"" | grep -q 1 \
  || as_postgres "psql -qc \"create user tandem with password 'tandem' superuser;\""
as_postgres "psql -qtAc \"select 1 from pg_database where datname='tandem'\"" | grep -q 1 \
  || as_postgres "createdb -O tandem tandem"
echo "postgres.sh: PostgreSQL $version ready on 127.0.0.1:5432 (database tandem)"
