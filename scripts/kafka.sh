#!/usr/bin/env bash
# Start, stop or check a local single-node Apache Kafka broker (KRaft, no ZooKeeper, no Docker)
# for Tandem's tests and benches, bound to 127.0.0.1 only, and locked down as a broker outside
# organisations connect to must be: clients speak SASL_SSL only (SCRAM-SHA-512 over TLS), and
# the StandardAuthorizer refuses whatever no ACL allows.
#
# Generated for the run, in the runtime dir and never in the repository:
#   tls/ca.pem          the CA clients trust (TANDEM_KAFKA_CA_FILE)
#   tls/broker.pem      the broker's key and certificate (127.0.0.1, localhost), signed by it
#   credentials.env     TANDEM_KAFKA_* lines (mode 0600): the bootstrap, the CA file and the
#                       SCRAM users made at format time: tandem-admin (a super user: creates
#                       recipients' credentials and ACLs) and tandem-relay (no rights until a
#                       recipient's topic is granted to it)
# The controller listener stays on loopback, SASL_PLAINTEXT with PLAIN (one static user).
#
#   bash scripts/kafka.sh [start]   fetch the jars once (Maven Central, cached), start, wait
#   bash scripts/kafka.sh stop      SIGTERM the broker this script started, and wait
#   bash scripts/kafka.sh status    exit 0 if a broker answers on the port, 3 if not
#
# Idempotent: if a broker already answers on the port, `start` does nothing; a warm jar cache
# is reused with no network. Installs Java and Maven from Debian's packages only if missing.
#
# Environment:
#   TANDEM_KAFKA_PORT             SASL_SSL port (default 9092)
#   TANDEM_KAFKA_CONTROLLER_PORT  KRaft controller port (default PLAINTEXT port + 1)
#   TANDEM_KAFKA_DIR              runtime dir: properties, data, logs, pid
#                                 (default /tmp/tandem-kafka, or /tmp/tandem-kafka-<port>)
#   TANDEM_KAFKA_CACHE            jar cache (default ${XDG_CACHE_HOME:-~/.cache}/tandem/kafka-<version>)
#   TANDEM_KAFKA_WAIT             seconds to wait for the broker (default 60)
# Versions live in scripts/kafka/pom.xml.
set -euo pipefail

action=${1:-start}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
pom=$here/kafka/pom.xml
log4j_config=$here/kafka/log4j2.properties
version=$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$pom" | head -n 1)
host=127.0.0.1
port=${TANDEM_KAFKA_PORT:-9092}
cport=${TANDEM_KAFKA_CONTROLLER_PORT:-$((port + 1))}
if [ "$port" = 9092 ]; then default_dir=/tmp/tandem-kafka; else default_dir=/tmp/tandem-kafka-$port; fi
run_dir=${TANDEM_KAFKA_DIR:-$default_dir}
cache=${TANDEM_KAFKA_CACHE:-${XDG_CACHE_HOME:-${HOME:-/root}/.cache}/tandem/kafka-$version}
lib=$cache/lib
props=$run_dir/server.properties
tls=$run_dir/tls
credentials=$run_dir/credentials.env
pidfile=$run_dir/kafka.pid
wait_seconds=${TANDEM_KAFKA_WAIT:-60}

say() { echo "kafka.sh: $*"; }
die() { echo "kafka.sh: $*" >&2; exit 1; }

# apt_get: apt-get as root that waits for another apt's lock instead of failing
source "$here/apt.sh"

# A TCP connect to the client listener: it accepts only once the broker is unfenced.
answering() {
  timeout 2 bash -c "exec 3<>/dev/tcp/$host/$port" 2>/dev/null
}

# The pid of the broker this script started for this runtime dir, if it is still running.
our_pid() {
  local pid
  [ -f "$pidfile" ] || return 1
  pid=$(cat "$pidfile")
  [ -n "$pid" ] && [ -r "/proc/$pid/cmdline" ] || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF "kafka.Kafka $props" || return 1
  echo "$pid"
}

java_major() {
  local major=
  if command -v java >/dev/null; then
    major=$(java -version 2>&1 | sed -n 's/.* version "\([0-9]*\).*/\1/p' | head -n 1)
  fi
  echo "${major:-0}"
}

ensure_packages() {
  local missing=()
  if [ "$(java_major)" -lt 17 ]; then missing+=(default-jre-headless); fi
  if [ "${1:-}" = maven ] && ! command -v mvn >/dev/null; then missing+=(maven); fi
  [ ${#missing[@]} = 0 ] && return
  command -v apt-get >/dev/null || die "need ${missing[*]} (Java 17+ and Maven); install them"
  say "installing ${missing[*]} from Debian's packages"
  apt_get update -qq
  apt_get install -y -qq "${missing[@]}" >/dev/null
  [ "$(java_major)" -ge 17 ] || die "the broker needs Java 17 or newer; java -version says $(java_major)"
}

pom_sum() { sha1sum "$pom" | cut -c1-40; }

# The jars were fetched for this very pom (the marker is written only after a complete fetch).
cache_warm() {
  [ -f "$cache/.complete" ] && [ "$(cat "$cache/.complete")" = "$(pom_sum)" ] \
    && ls "$lib"/kafka_2.13-*.jar >/dev/null 2>&1
}

# The broker's jars, fetched once per pom content into the cache; a warm cache needs no network.
fetch_jars() {
  local tmp started=$SECONDS
  cache_warm && return
  say "fetching Kafka $version jars from Maven Central into $lib"
  mkdir -p "$cache"
  tmp=$(mktemp -d "$cache/.fetch.XXXXXX")
  trap 'rm -rf "$tmp"' EXIT
  mvn -B -q -Dstyle.color=never -f "$pom" dependency:copy-dependencies \
    -DincludeScope=runtime -DoutputDirectory="$tmp/lib" >"$tmp/mvn.log" 2>&1 \
    || { cat "$tmp/mvn.log" >&2; die "maven could not fetch the jars (see above)"; }
  ls "$tmp"/lib/kafka_2.13-*.jar >/dev/null 2>&1 || die "maven copied no kafka_2.13 jar"
  rm -rf "$lib"
  mv "$tmp/lib" "$lib"
  rm -rf "$tmp"
  trap - EXIT
  pom_sum >"$cache/.complete"
  say "fetched $(ls "$lib" | wc -l) jars in $((SECONDS - started)) s"
}

# 32 characters of URL-safe base64 of 192 random bits.
new_secret() { head -c 24 /dev/urandom | base64 | tr '+/' '-_'; }

# A CA and a broker certificate for this runtime dir (kept until the dir is removed).
make_tls() {
  [ -s "$tls/broker.pem" ] && [ -s "$tls/ca.pem" ] && return
  command -v openssl >/dev/null || die "need openssl to make the broker's certificate"
  rm -rf "$tls"
  mkdir -p "$tls"
  chmod 700 "$tls"
  (
    cd "$tls"
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 \
      -keyout ca.key -out ca.pem -subj "/CN=Tandem test broker CA $(date -u +%Y%m%dT%H%M%S)" \
      -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign"
    openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out broker.key
    openssl req -new -key broker.key -subj "/CN=$host" -out broker.csr
    printf '%s\n' "subjectAltName=IP:$host,DNS:localhost" "basicConstraints=CA:FALSE" \
      "keyUsage=critical,digitalSignature" "extendedKeyUsage=serverAuth" >broker.ext
    openssl x509 -req -in broker.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 30 \
      -extfile broker.ext -out broker.crt
    cat broker.key broker.crt >broker.pem
    rm -f broker.csr broker.ext ca.srl
    chmod 600 ./*
  ) >"$run_dir/tls.log" 2>&1 || { cat "$run_dir/tls.log" >&2; die "making the certificates failed"; }
}

# The SCRAM users and the controller's password, made once per runtime dir. A data dir
# formatted without them (an older PLAINTEXT run) is formatted again: it holds test data only.
make_credentials() {
  [ -s "$credentials" ] && return
  rm -rf "$run_dir/data"
  (
    umask 077
    cat >"$credentials" <<EOF
# Written by scripts/kafka.sh for the broker on $host:$port. Secrets: mode 0600.
TANDEM_KAFKA_BOOTSTRAP=$host:$port
TANDEM_KAFKA_CA_FILE=$tls/ca.pem
TANDEM_KAFKA_ADMIN_USERNAME=tandem-admin
TANDEM_KAFKA_ADMIN_PASSWORD=$(new_secret)
TANDEM_KAFKA_RELAY_USERNAME=tandem-relay
TANDEM_KAFKA_RELAY_PASSWORD=$(new_secret)
KAFKA_BROKER_PASSWORD=$(new_secret)
KAFKA_CONTROLLER_PASSWORD=$(new_secret)
EOF
  )
}

credential() { sed -n "s/^$1=//p" "$credentials"; }

write_properties() {
  mkdir -p "$run_dir/data" "$run_dir/logs"
  local broker_pw controller_pw
  broker_pw=$(credential KAFKA_BROKER_PASSWORD)
  controller_pw=$(credential KAFKA_CONTROLLER_PASSWORD)
  (
    umask 077
    cat >"$props" <<EOF
# Written by scripts/kafka.sh: a single-node KRaft broker for local tests, on 127.0.0.1 only.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@$host:$cport
listeners=SASL_SSL://$host:$port,CONTROLLER://$host:$cport
advertised.listeners=SASL_SSL://$host:$port
controller.listener.names=CONTROLLER
inter.broker.listener.name=SASL_SSL
listener.security.protocol.map=CONTROLLER:SASL_PLAINTEXT,SASL_SSL:SASL_SSL
# Clients: SCRAM-SHA-512 over TLS, the broker's certificate signed by tls/ca.pem.
sasl.enabled.mechanisms=SCRAM-SHA-512
sasl.mechanism.inter.broker.protocol=SCRAM-SHA-512
listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="broker" password="$broker_pw";
ssl.keystore.type=PEM
ssl.keystore.location=$tls/broker.pem
ssl.truststore.type=PEM
ssl.truststore.location=$tls/ca.pem
ssl.client.auth=none
# The controller listener, on loopback: PLAIN with one static user.
sasl.mechanism.controller.protocol=PLAIN
listener.name.controller.sasl.enabled.mechanisms=PLAIN
listener.name.controller.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username="controller" password="$controller_pw" user_controller="$controller_pw";
# Nothing is allowed that no ACL allows; the relay and each recipient get theirs from Tandem.
authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer
allow.everyone.if.no.acl.found=false
super.users=User:broker;User:controller;User:tandem-admin
log.dirs=$run_dir/data
num.partitions=6
default.replication.factor=1
min.insync.replicas=1
auto.create.topics.enable=false
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
EOF
  )
}

# 22 characters of URL-safe base64 of 128 random bits (a Kafka Uuid); never starting with "-".
new_cluster_id() {
  local id
  while :; do
    id=$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | cut -c1-22)
    case $id in -*) ;; *) echo "$id"; return ;; esac
  done
}

java_opts=()
set_java_opts() {
  java_opts=(-Djava.awt.headless=true "-Dlog4j2.configurationFile=$log4j_config"
    "-Dkafka.logs.dir=$run_dir/logs" -cp "$lib/*")
}

format_storage() {
  [ -f "$run_dir/data/meta.properties" ] && return
  [ -s "$run_dir/cluster.id" ] || new_cluster_id >"$run_dir/cluster.id"
  local scram=()
  scram+=(--add-scram "SCRAM-SHA-512=[name=broker,password=$(credential KAFKA_BROKER_PASSWORD)]")
  scram+=(--add-scram \
    "SCRAM-SHA-512=[name=tandem-admin,password=$(credential TANDEM_KAFKA_ADMIN_PASSWORD)]")
  scram+=(--add-scram \
    "SCRAM-SHA-512=[name=tandem-relay,password=$(credential TANDEM_KAFKA_RELAY_PASSWORD)]")
  java "${java_opts[@]}" kafka.tools.StorageTool format --cluster-id "$(cat "$run_dir/cluster.id")" \
    --config "$props" --ignore-formatted "${scram[@]}" >"$run_dir/format.log" 2>&1 \
    || { cat "$run_dir/format.log" >&2; die "formatting $run_dir/data failed"; }
}

log_tail() {
  echo "--- first errors in $run_dir/logs/server.log" >&2
  grep -m 5 -E "^\[[^]]*\] (ERROR|FATAL)" "$run_dir/logs/server.log" >&2 2>/dev/null || true
  echo "--- tail of $run_dir/logs/server.log" >&2
  tail -n 25 "$run_dir/logs/server.log" >&2 2>/dev/null || true
  echo "--- tail of $run_dir/kafka.out (JVM output)" >&2
  tail -n 10 "$run_dir/kafka.out" >&2 2>/dev/null || true
}

wait_ready() {
  local pid=$1 deadline=$((SECONDS + wait_seconds))
  while [ $SECONDS -lt $deadline ]; do
    if answering; then
      say "Kafka $version ready on $host:$port (pid $pid, dir $run_dir)"
      return
    fi
    if ! kill -0 "$pid" 2>/dev/null; then
      log_tail
      die "the broker (pid $pid) exited before answering on $host:$port"
    fi
    sleep 0.5
  done
  log_tail
  die "the broker (pid $pid) did not answer on $host:$port within ${wait_seconds} s (still running; 'bash scripts/kafka.sh stop' ends it)"
}

start() {
  local started=$SECONDS pid
  mkdir -p "$run_dir"
  exec 9>"$run_dir/.lock"
  flock -w 180 9 || die "another kafka.sh holds $run_dir/.lock"
  if answering; then
    if pid=$(our_pid); then
      say "Kafka $version ready on $host:$port (already running, pid $pid)"
    else
      say "a broker already answers on $host:$port (not started from $run_dir); using it"
    fi
    return
  fi
  if pid=$(our_pid); then
    say "the broker (pid $pid) is starting; waiting"
    wait_ready "$pid"
    return
  fi
  if cache_warm; then ensure_packages; else ensure_packages maven; fi
  fetch_jars
  make_tls
  make_credentials
  write_properties
  set_java_opts
  format_storage
  cd "$run_dir"
  # setsid: its own session, so a Ctrl-C in the shell that ran `make test` leaves it running.
  nohup setsid java -Xms256m -Xmx512m -XX:+UseG1GC -XX:MaxGCPauseMillis=20 "${java_opts[@]}" \
    kafka.Kafka "$props" </dev/null >"$run_dir/kafka.out" 2>&1 9>&- &
  pid=$!
  echo "$pid" >"$pidfile"
  wait_ready "$pid"
  say "started in $((SECONDS - started)) s"
}

stop() {
  local pid
  if ! pid=$(our_pid); then
    rm -f "$pidfile"
    say "no broker started from $run_dir is running"
    return
  fi
  kill -TERM "$pid"
  for _ in $(seq 1 120); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.5
  done
  if kill -0 "$pid" 2>/dev/null; then
    say "pid $pid ignored SIGTERM for 60 s; sending SIGKILL"
    kill -KILL "$pid"
  fi
  rm -f "$pidfile"
  say "stopped the broker on $host:$port (pid $pid)"
}

status() {
  if answering; then
    if pid=$(our_pid); then
      say "Kafka $version answers on $host:$port (pid $pid, dir $run_dir)"
    else
      say "a broker answers on $host:$port (not started from $run_dir)"
    fi
    return 0
  fi
  if pid=$(our_pid); then say "the broker (pid $pid) is running but not answering on $host:$port yet"
  else say "no broker answers on $host:$port"; fi
  return 3
}

case $action in
  start) start ;;
  stop) stop ;;
  status) status ;;
  *) die "usage: bash scripts/kafka.sh [start|stop|status]" ;;
esac
