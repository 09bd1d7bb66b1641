# Shared set-up for scripts/serve and scripts/test. Sourced, not executed.
#
# Provides: a virtualenv in .venv/ (from requirements.lock), the Odoo 18.0
# source (ODOO_PATH, else ~/.cache/odoo/18.0, else a git clone there), a
# PostgreSQL server (PGHOST/PGPORT/PGUSER, else the local default, else a
# private throw-away cluster in .pgdata/), and an Odoo config file.

set -euo pipefail

REPO_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ADDON_NAME="mail_routing_policy"
VENV_DIR="$REPO_DIR/.venv"
ODOO_DEFAULT_PATH="${XDG_CACHE_HOME:-$HOME/.cache}/odoo/18.0"
ODOO_PATH="${ODOO_PATH:-$ODOO_DEFAULT_PATH}"
ODOO_GIT_URL="${ODOO_GIT_URL:-https://github.com/odoo/odoo.git}"
# OCA's README generator (oca-gen-addon-readme) is not on PyPI: its source,
# OCA/maintainer-tools at this commit, is read from OCA_MAINTAINER_TOOLS
MAINTAINER_TOOLS_COMMIT="b89f767503be6ab2b11e4f50a7557cb20066e667"
MAINTAINER_TOOLS_PATH="${OCA_MAINTAINER_TOOLS:-${XDG_CACHE_HOME:-$HOME/.cache}/oca/maintainer-tools}"
MAINTAINER_TOOLS_GIT_URL="${MAINTAINER_TOOLS_GIT_URL:-https://github.com/OCA/maintainer-tools.git}"
# OCA's prettier and eslint for Odoo 18.0, at the versions its repositories
# pin (npm packages, installed into .venv/node/)
NODE_TOOLS="prettier@3.3.3 @prettier/plugin-xml@3.4.1 eslint@9.12.0 eslint-plugin-jsdoc@50.3.1 globals@16.0.0"
NODE_DIR="$VENV_DIR/node"
PYTHON="${PYTHON:-python3.11}"
command -v "$PYTHON" >/dev/null 2>&1 || PYTHON=python3

say() { printf '[%s] %s\n' "$(basename "$0")" "$*" >&2; }
die() { say "ERROR: $*"; exit 1; }

ensure_venv() {
    if [ ! -x "$VENV_DIR/bin/python" ]; then
        say "creating virtualenv in .venv/"
        "$PYTHON" -m venv "$VENV_DIR"
        "$VENV_DIR/bin/pip" install -q -U pip
    fi
    # the lock, never the loose input files: the same versions on every
    # machine (scripts/lock regenerates it from requirements*.txt)
    "$REPO_DIR/scripts/lock" --check ||
        die "requirements.lock does not match requirements.txt/requirements-test.txt: run scripts/lock."
    local stamp="$VENV_DIR/.requirements.sha"
    local want
    want="$(sha256sum <"$REPO_DIR/requirements.lock" | cut -d' ' -f1)"
    if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
        say "installing Python requirements from requirements.lock"
        "$VENV_DIR/bin/pip" install -q -r "$REPO_DIR/requirements.lock"
        echo "$want" >"$stamp"
    fi
}

ensure_odoo() {
    if [ ! -f "$ODOO_PATH/odoo/release.py" ]; then
        say "no Odoo source in $ODOO_PATH: cloning Odoo 18.0 community from $ODOO_GIT_URL"
        mkdir -p "$(dirname "$ODOO_PATH")"
        if ! git clone -q --depth 1 --branch 18.0 "$ODOO_GIT_URL" "$ODOO_PATH" 2>/dev/null; then
            rm -rf "$ODOO_PATH"
            die "Odoo 18.0 source not found: set ODOO_PATH to a checkout of Odoo 18.0 community (the folder holding odoo-bin), or put one in $ODOO_DEFAULT_PATH."
        fi
    fi
    grep -q "version_info = (18, 0" "$ODOO_PATH/odoo/release.py" ||
        die "$ODOO_PATH is not Odoo 18.0 (odoo/release.py): set ODOO_PATH to an Odoo 18.0 community checkout."
    # make 'import odoo' work inside the virtualenv
    local site
    site="$("$VENV_DIR/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
    echo "$ODOO_PATH" >"$site/odoo-source.pth"
    # Odoo loads an addon by its folder name: expose the repository as
    # .venv/addons/mail_routing_policy whatever the clone is called.
    ADDONS_LINK_DIR="$VENV_DIR/addons"
    mkdir -p "$ADDONS_LINK_DIR"
    ln -sfn "$REPO_DIR" "$ADDONS_LINK_DIR/$ADDON_NAME"
}

ensure_maintainer_tools() {
    if [ ! -f "$MAINTAINER_TOOLS_PATH/tools/gen_addon_readme.py" ]; then
        say "no OCA maintainer-tools in $MAINTAINER_TOOLS_PATH: cloning $MAINTAINER_TOOLS_GIT_URL"
        mkdir -p "$(dirname "$MAINTAINER_TOOLS_PATH")"
        if ! { git clone -q "$MAINTAINER_TOOLS_GIT_URL" "$MAINTAINER_TOOLS_PATH" 2>/dev/null &&
            git -C "$MAINTAINER_TOOLS_PATH" checkout -q "$MAINTAINER_TOOLS_COMMIT"; }; then
            rm -rf "$MAINTAINER_TOOLS_PATH"
            die "OCA maintainer-tools not found: put OCA/maintainer-tools (commit $MAINTAINER_TOOLS_COMMIT) in $MAINTAINER_TOOLS_PATH, or set OCA_MAINTAINER_TOOLS to a copy of it."
        fi
    fi
}

ensure_node_tools() {
    command -v npm >/dev/null 2>&1 ||
        die "npm is needed for OCA's prettier and eslint checks (Debian: apt-get install npm)."
    if [ "$(cat "$NODE_DIR/.tools" 2>/dev/null)" != "$NODE_TOOLS" ]; then
        say "installing $NODE_TOOLS into .venv/node/"
        rm -rf "$NODE_DIR"
        mkdir -p "$NODE_DIR"
        # shellcheck disable=SC2086 (one package a word)
        npm install --silent --no-audit --no-fund --no-save --prefix "$NODE_DIR" $NODE_TOOLS >/dev/null
        echo "$NODE_TOOLS" >"$NODE_DIR/.tools"
    fi
}

# pytest names test modules after the *physical* folder, so the tests run on
# a copy of the working tree in a folder named after the addon.
stage_addon_copy() {
    ADDONS_LINK_DIR="${MRP_STAGE_DIR:-$VENV_DIR/test-addons}"
    ADDON_DIR="$ADDONS_LINK_DIR/$ADDON_NAME"
    mkdir -p "$ADDON_DIR"
    rsync -a --delete --exclude .venv --exclude .pgdata --exclude .git --exclude __pycache__ \
        "$REPO_DIR/" "$ADDON_DIR/"
}

pg_answers() { pg_isready -q ${PGHOST:+-h "$PGHOST"} ${PGPORT:+-p "$PGPORT"} >/dev/null 2>&1; }

ensure_postgres() {
    if pg_answers; then
        return
    fi
    # the local default server may listen on TCP only
    if [ -z "${PGHOST:-}" ] && PGHOST=127.0.0.1 pg_answers; then
        export PGHOST=127.0.0.1
        return
    fi
    say "no PostgreSQL server answers at ${PGHOST:-local default}:${PGPORT:-5432}"
    local bindir
    bindir="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1 || true)"
    [ -n "$bindir" ] && [ -x "$bindir/initdb" ] ||
        die "start PostgreSQL or set PGHOST/PGPORT/PGUSER to a running server (no PostgreSQL binaries found to start a private one)."
    local data="$REPO_DIR/.pgdata" port=54329 runas=()
    if [ "$(id -u)" = 0 ]; then
        runas=(runuser -u postgres --)
    fi
    if [ ! -f "$data/PG_VERSION" ]; then
        say "starting a private throw-away PostgreSQL cluster in .pgdata/"
        mkdir -p "$data"
        [ "$(id -u)" = 0 ] && chown postgres "$data"
        "${runas[@]}" "$bindir/initdb" -q -D "$data" -U "$(id -un)" --auth=trust >/dev/null
    fi
    "${runas[@]}" "$bindir/pg_ctl" -D "$data" -l "$data/server.log" -w \
        -o "-p $port -k $data -c listen_addresses=127.0.0.1" start >/dev/null ||
        die "could not start the private PostgreSQL cluster (see .pgdata/server.log)."
    export PGHOST=127.0.0.1 PGPORT=$port
}

# write_odoo_config FILE DBNAME
write_odoo_config() {
    local conf="$1" db="$2"
    cat >"$conf" <<EOF
[options]
addons_path = $ODOO_PATH/odoo/addons,$ODOO_PATH/addons,$ADDONS_LINK_DIR
data_dir = $VENV_DIR/data
db_name = $db
db_host = ${PGHOST:-False}
db_port = ${PGPORT:-False}
db_user = ${PGUSER:-False}
db_password = ${PGPASSWORD:-False}
admin_passwd = admin
without_demo = ${WITHOUT_DEMO:-all}
list_db = False
log_level = ${ODOO_LOG_LEVEL:-warn}
EOF
}

odoo_bin() { "$VENV_DIR/bin/python" "$ODOO_PATH/odoo-bin" "$@"; }

setup_all() {
    ensure_venv
    ensure_odoo
    ensure_postgres
}
