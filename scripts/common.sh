# Shared set-up for the scripts. Sourced, not executed.
#
# The repository is the addon's own folder, and Odoo reads that folder
# (translation export walks it with os.walk(followlinks=True)): nothing the
# scripts make goes inside it. They use, outside the tree:
# - a virtualenv shared by every checkout with the same requirements.lock:
#   ${XDG_CACHE_HOME:-~/.cache}/mail_routing_policy/venv-<first 12 hex of
#   sha256(requirements.lock)> (MRP_VENV_DIR to choose another), made under
#   a lock so that two checkouts do not race; OCA's node tools beside it
#   (node-<hash of NODE_TOOLS>);
# - a state folder per checkout, MRP_STATE_DIR, default
#   ${XDG_CACHE_HOME:-~/.cache}/mail_routing_policy/checkouts/<folder name>-<hash
#   of the checkout's absolute path>: addons/mail_routing_policy (a link to
#   the checkout: the addons path entry, outside the tree), Odoo's data_dir,
#   the configs, logs, the pre-commit and ruff caches and, when no
#   PostgreSQL server answers, a private cluster (pgdata/);
# - Python's bytecode of every checkout in .../mail_routing_policy/pycache
#   (PYTHONPYCACHEPREFIX), not in __pycache__ folders of the tree, and
#   hypothesis's caches in .../mail_routing_policy/hypothesis.
# Also: the Odoo 18.0 source (ODOO_PATH, else ~/.cache/odoo/18.0, else a git
# clone there) and a PostgreSQL server (PGHOST/PGPORT/PGUSER, else the local
# default, else the private cluster). `scripts/env` prints these paths.

set -euo pipefail

REPO_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ADDON_NAME="mail_routing_policy"
MRP_CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/mail_routing_policy"
VENV_DIR="${MRP_VENV_DIR:-$MRP_CACHE/venv-$(sha256sum <"$REPO_DIR/requirements.lock" | cut -c1-12)}"
STATE_DIR="${MRP_STATE_DIR:-$MRP_CACHE/checkouts/$(basename "$REPO_DIR")-$(printf %s "$REPO_DIR" | sha256sum | cut -c1-10)}"
# the addons path entry: holds only a link named after the addon to the
# checkout (Odoo loads an addon by its folder name, whatever the clone is
# called; pytest names test modules after that path too)
ADDONS_LINK_DIR="$STATE_DIR/addons"
ADDON_DIR="$ADDONS_LINK_DIR/$ADDON_NAME"
export PYTHONPYCACHEPREFIX="${PYTHONPYCACHEPREFIX:-$MRP_CACHE/pycache}"
# ...and written there: an inherited PYTHONDONTWRITEBYTECODE (set to keep
# trees free of __pycache__, which the prefix already does) would make every
# process compile Odoo's source again, 1.5 s of each odoo-bin start
unset PYTHONDONTWRITEBYTECODE
# hypothesis's caches (tests/test_incoming_fuzz.py picks the same folder when unset)
export HYPOTHESIS_STORAGE_DIRECTORY="${HYPOTHESIS_STORAGE_DIRECTORY:-$MRP_CACHE/hypothesis}"
ODOO_DEFAULT_PATH="${XDG_CACHE_HOME:-$HOME/.cache}/odoo/18.0"
ODOO_PATH="${ODOO_PATH:-$ODOO_DEFAULT_PATH}"
ODOO_GIT_URL="${ODOO_GIT_URL:-https://github.com/odoo/odoo.git}"
# OCA's README generator (oca-gen-addon-readme) is not on PyPI: its source,
# OCA/maintainer-tools at this commit, is read from OCA_MAINTAINER_TOOLS
MAINTAINER_TOOLS_COMMIT="b89f767503be6ab2b11e4f50a7557cb20066e667"
MAINTAINER_TOOLS_PATH="${OCA_MAINTAINER_TOOLS:-${XDG_CACHE_HOME:-$HOME/.cache}/oca/maintainer-tools}"
MAINTAINER_TOOLS_GIT_URL="${MAINTAINER_TOOLS_GIT_URL:-https://github.com/OCA/maintainer-tools.git}"
# OCA's prettier and eslint for Odoo 18.0, at the versions its repositories
# pin (npm packages, installed into NODE_DIR, shared like the virtualenv)
NODE_TOOLS="prettier@3.3.3 @prettier/plugin-xml@3.4.1 eslint@9.12.0 eslint-plugin-jsdoc@50.3.1 globals@16.0.0"
NODE_DIR="$MRP_CACHE/node-$(printf %s "$NODE_TOOLS" | sha256sum | cut -c1-12)"
PYTHON="${PYTHON:-python3.11}"
command -v "$PYTHON" >/dev/null 2>&1 || PYTHON=python3

say() { printf '[%s] %s\n' "$(basename "$0")" "$*" >&2; }
die() { say "ERROR: $*"; exit 1; }

# run "$@" holding an exclusive lock on the file $1 (shared set-ups: two
# checkouts may build the same virtualenv or node tools at once)
with_lock() {
    local file="$1"
    shift
    mkdir -p "$(dirname "$file")"
    (
        exec 8>"$file"
        flock 8
        "$@"
    )
}

_install_venv() {
    if [ ! -x "$VENV_DIR/bin/python" ]; then
        say "creating the virtualenv $VENV_DIR (shared by checkouts with this requirements.lock)"
        "$PYTHON" -m venv "$VENV_DIR"
        "$VENV_DIR/bin/pip" install -q -U pip
    fi
    local stamp="$VENV_DIR/.requirements.sha"
    local want
    want="$(sha256sum <"$REPO_DIR/requirements.lock" | cut -d' ' -f1)"
    if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
        say "installing Python requirements from requirements.lock into $VENV_DIR"
        "$VENV_DIR/bin/pip" install -q -r "$REPO_DIR/requirements.lock"
        echo "$want" >"$stamp"
    fi
}

ensure_venv() {
    # the lock, never the loose input files: the same versions on every
    # machine (scripts/lock regenerates it from requirements*.txt)
    "$REPO_DIR/scripts/lock" --check ||
        die "requirements.lock does not match requirements.txt/requirements-test.txt: run scripts/lock."
    local want
    want="$(sha256sum <"$REPO_DIR/requirements.lock" | cut -d' ' -f1)"
    if [ "$(cat "$VENV_DIR/.requirements.sha" 2>/dev/null)" != "$want" ]; then
        with_lock "$VENV_DIR.lock" _install_venv
    fi
}

ensure_state_dir() {
    mkdir -p "$STATE_DIR" "$ADDONS_LINK_DIR" "$STATE_DIR/logs"
    # the addons path entry: a link to the checkout, outside the tree
    ln -sfn "$REPO_DIR" "$ADDON_DIR"
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
    # 'import odoo' in the scripts' Python (pytest, the benchmarks): the
    # virtualenv is shared, so this checkout's ODOO_PATH goes first on the
    # path; the .pth file gives the default one to a plain venv python
    export PYTHONPATH="$ODOO_PATH${PYTHONPATH:+:$PYTHONPATH}"
    local site
    site="$("$VENV_DIR/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
    [ -f "$site/odoo-source.pth" ] || echo "$ODOO_PATH" >"$site/odoo-source.pth"
    ensure_state_dir
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

_install_node_tools() {
    if [ "$(cat "$NODE_DIR/.tools" 2>/dev/null)" != "$NODE_TOOLS" ]; then
        say "installing $NODE_TOOLS into $NODE_DIR"
        rm -rf "$NODE_DIR"
        mkdir -p "$NODE_DIR"
        # shellcheck disable=SC2086 (one package a word)
        npm install --silent --no-audit --no-fund --no-save --prefix "$NODE_DIR" $NODE_TOOLS >/dev/null
        echo "$NODE_TOOLS" >"$NODE_DIR/.tools"
    fi
}

ensure_node_tools() {
    command -v npm >/dev/null 2>&1 ||
        die "npm is needed for OCA's prettier and eslint checks (Debian: apt-get install npm)."
    if [ "$(cat "$NODE_DIR/.tools" 2>/dev/null)" != "$NODE_TOOLS" ]; then
        with_lock "$NODE_DIR.lock" _install_node_tools
    fi
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
    # in the state folder; as root, the server runs as postgres, which may
    # not enter root's home: then in a folder of /var/tmp named likewise
    local data="${MRP_PGDATA:-$STATE_DIR/pgdata}" port=54329 runas=()
    if [ "$(id -u)" = 0 ]; then
        runas=(runuser -u postgres --)
        [ -n "${MRP_PGDATA:-}" ] || runuser -u postgres -- test -x "$STATE_DIR" 2>/dev/null ||
            data="/var/tmp/mail_routing_policy-pgdata-$(basename "$STATE_DIR")"
    fi
    if [ ! -f "$data/PG_VERSION" ]; then
        say "starting a private throw-away PostgreSQL cluster in $data"
        mkdir -p "$data"
        [ "$(id -u)" = 0 ] && chown postgres "$data"
        "${runas[@]}" "$bindir/initdb" -q -D "$data" -U "$(id -un)" --auth=trust >/dev/null
    fi
    "${runas[@]}" "$bindir/pg_ctl" -D "$data" -l "$data/server.log" -w \
        -o "-p $port -k $data -c listen_addresses=127.0.0.1" start >/dev/null ||
        die "could not start the private PostgreSQL cluster (see $data/server.log)."
    export PGHOST=127.0.0.1 PGPORT=$port
}

# write_odoo_config FILE DBNAME
write_odoo_config() {
    local conf="$1" db="$2"
    cat >"$conf" <<EOF
[options]
addons_path = $ODOO_PATH/odoo/addons,$ODOO_PATH/addons,$ADDONS_LINK_DIR
data_dir = $STATE_DIR/data
db_name = $db
db_host = ${PGHOST:-False}
db_port = ${PGPORT:-False}
db_user = ${PGUSER:-False}
db_password = ${PGPASSWORD:-False}
admin_passwd = admin
without_demo = ${WITHOUT_DEMO:-all}
list_db = False
log_level = ${ODOO_LOG_LEVEL:-warn}
${HTTP_PORT:+http_port = $HTTP_PORT}
EOF
}

odoo_bin() { "$VENV_DIR/bin/python" "$ODOO_PATH/odoo-bin" "$@"; }

setup_all() {
    ensure_venv
    ensure_odoo
    ensure_postgres
}

# pytest-odoo on database $1 with config file $2; the other arguments are
# pytest's, paths under tests/ taken relative to the checkout (default: all
# of tests/). pytest names a test module after the path it was given, not
# the file's real one: the paths go through the addons link
# ($ADDON_DIR/tests/...), so that the modules are
# odoo.addons.mail_routing_policy.tests.* whatever the clone is called.
odoo_pytest() {
    local db="$1" conf="$2" args=() arg previous="" paths=0
    shift 2
    for arg in "$@"; do
        if [[ "$arg" == tests || "$arg" == tests/* ]] && [[ "$previous" != -k && "$previous" != -m ]]; then
            args+=("$ADDON_DIR/$arg")
            paths=1
        else
            args+=("$arg")
        fi
        previous="$arg"
    done
    [ "$paths" = 1 ] || args+=("$ADDON_DIR/tests")
    # test mode from the start: pytest-odoo imports odoo.tests right after
    # parsing the config, before its fixtures set test_enable. Odoo 18
    # derives test_enable from test_tags (a test_enable line in the file is
    # ignored); test_tags runs nothing here (no -i/-u).
    grep -q '^test_tags = ' "$conf" || echo "test_tags = /$ADDON_NAME" >>"$conf"
    # a time limit when PYTEST_TIME_LIMIT (seconds) is set (scripts/test)
    local limit=()
    [ -z "${PYTEST_TIME_LIMIT:-}" ] || limit=(timeout --kill-after=60 "$PYTEST_TIME_LIMIT")
    (cd "$ADDONS_LINK_DIR" && exec "${limit[@]}" "$VENV_DIR/bin/pytest" -p no:cacheprovider --odoo-database="$db" \
        --odoo-config="$conf" --odoo-log-level=warn --odoo-http "${args[@]}")
}

free_port() {
    "$VENV_DIR/bin/python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# The module's whole suite under Odoo's runner with the README's command,
# `scripts/env odoo-bin -d DB -i mail_routing_policy --test-tags
# /mail_routing_policy --stop-after-init`, on the checkout itself: install on
# a fresh database, at_install tests during the install, post_install tests
# after it, in one process. The environment only fills the config scripts/env
# writes (to CONF): its default info log (each test started; set here too, so
# that an ODOO_LOG_LEVEL of the caller's shell cannot hide the lines this
# reads), a free HTTP port.
# run_odoo_suite DB CONF LOG [TIME LIMIT, s]: output into LOG, returns its exit code
run_odoo_suite() {
    local db="$1" conf="$2" log="$3" limit="${4:-1800}"
    RUNNER_COMMAND=(odoo-bin -d "$db" -i "$ADDON_NAME" --test-tags "/$ADDON_NAME" --stop-after-init)
    MRP_CONF="$conf" ODOO_DB="$db" ODOO_LOG_LEVEL=info HTTP_PORT="$(free_port)" \
        timeout --kill-after=60 "$limit" "$REPO_DIR/scripts/env" "${RUNNER_COMMAND[@]}" >"$log" 2>&1
}
