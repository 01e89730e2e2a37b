#!/usr/bin/env bash
# docker-compose.yml's one-shot `kafka-setup` service (in the apache/kafka image, before the
# broker starts): what scripts/kafka.sh does for the test broker, for the compose one.
#
#   1. TLS, once: a CA and the broker's key and certificate (DNS kafka, localhost) in a
#      PKCS12 keystore with a random password, in $SECRETS_DIR (the broker's volume only):
#      broker.p12 and broker_keystore_creds (its password), as the image's configure step
#      reads them (KAFKA_SSL_KEYSTORE_FILENAME / _CREDENTIALS / KAFKA_SSL_KEY_CREDENTIALS),
#      and ca.pem (its truststore, for the inter-broker connection to its own listener).
#      The CA's certificate goes to $CA_DIR/ca.pem (the apps' TANDEM_KAFKA_CA_FILE); the CA's
#      key is deleted once the broker's certificate is signed.
#   2. Storage, once: formatted with the SCRAM-SHA-512 users the broker needs before any
#      client can connect: broker (inter-broker), tandem-admin (a super user: recipients'
#      credentials and ACLs) and tandem-relay (no rights until a recipient's topic is granted).
#      The broker's own format step then finds it formatted and goes on.
#
# Environment (compose gives it): CLUSTER_ID, TANDEM_KAFKA_BROKER_PASSWORD,
# TANDEM_KAFKA_ADMIN_PASSWORD, TANDEM_KAFKA_RELAY_PASSWORD; SECRETS_DIR, CA_DIR, DATA_DIR and
# KAFKA_STORAGE (the storage tool's command) default to the image's paths, and KAFKA_OWNER
# (default appuser, the image's user) is given what it makes when it runs as root.
# tests/integration/test_compose.py runs it outside Docker (keytool and the cached jars).
set -euo pipefail

secrets=${SECRETS_DIR:-/etc/kafka/secrets}
ca_dir=${CA_DIR:-/etc/kafka/ca}
data=${DATA_DIR:-/var/lib/kafka/data}
read -r -a storage <<<"${KAFKA_STORAGE:-/opt/kafka/bin/kafka-storage.sh}"

say() { echo "kafka-setup: $*"; }
need() { [ -n "${!1:-}" ] || { echo "kafka-setup: $1 is not set" >&2; exit 1; }; }
for name in CLUSTER_ID TANDEM_KAFKA_BROKER_PASSWORD TANDEM_KAFKA_ADMIN_PASSWORD \
  TANDEM_KAFKA_RELAY_PASSWORD; do
  need "$name"
done

make_tls() {
  if [ -s "$secrets/broker.p12" ] && [ -s "$secrets/broker_keystore_creds" ] \
    && [ -s "$secrets/ca.pem" ] && [ -s "$ca_dir/ca.pem" ]; then
    say "TLS material present"
    return
  fi
  local work pw
  work=$(mktemp -d)
  pw=$(head -c 24 /dev/urandom | base64 | tr '+/' '-_')
  keytool -genkeypair -alias ca -keyalg EC -groupname secp256r1 -validity 825 \
    -dname "CN=Tandem Kafka CA" -ext bc:c -ext ku:c=keyCertSign,cRLSign \
    -keystore "$work/ca.p12" -storetype PKCS12 -storepass "$pw"
  keytool -exportcert -rfc -alias ca -keystore "$work/ca.p12" -storepass "$pw" >"$work/ca.pem"
  keytool -genkeypair -alias broker -keyalg EC -groupname secp256r1 -validity 825 \
    -dname "CN=kafka" -keystore "$work/broker.p12" -storetype PKCS12 -storepass "$pw"
  keytool -certreq -alias broker -keystore "$work/broker.p12" -storepass "$pw" \
    | keytool -gencert -rfc -alias ca -keystore "$work/ca.p12" -storepass "$pw" -validity 825 \
      -ext SAN=dns:kafka,dns:localhost -ext ku:c=digitalSignature -ext eku=serverAuth \
      >"$work/broker.crt"
  keytool -importcert -noprompt -alias ca -file "$work/ca.pem" \
    -keystore "$work/broker.p12" -storepass "$pw"
  keytool -importcert -alias broker -file "$work/broker.crt" \
    -keystore "$work/broker.p12" -storepass "$pw"
  mkdir -p "$secrets" "$ca_dir"
  (
    umask 077
    cp "$work/broker.p12" "$secrets/broker.p12"
    printf '%s' "$pw" >"$secrets/broker_keystore_creds"
  )
  cp "$work/ca.pem" "$secrets/ca.pem"  # the broker's truststore: it connects to itself too
  cp "$work/ca.pem" "$ca_dir/ca.pem"
  chmod 644 "$ca_dir/ca.pem"
  rm -rf "$work"  # the CA's key with it: no other certificate is ever signed
  say "made the CA and the broker's certificate (kafka, localhost)"
}

format_storage() {
  if [ -f "$data/meta.properties" ]; then
    say "storage already formatted"
    return
  fi
  local props
  props=$(mktemp)
  # What the storage tool checks of the broker's configuration (docker-compose.yml has all of it).
  cat >"$props" <<EOF
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@localhost:9093
controller.listener.names=CONTROLLER
listeners=SASL_SSL://0.0.0.0:9092,CONTROLLER://localhost:9093
advertised.listeners=SASL_SSL://kafka:9092
inter.broker.listener.name=SASL_SSL
listener.security.protocol.map=CONTROLLER:SASL_PLAINTEXT,SASL_SSL:SASL_SSL
sasl.enabled.mechanisms=SCRAM-SHA-512
sasl.mechanism.inter.broker.protocol=SCRAM-SHA-512
sasl.mechanism.controller.protocol=PLAIN
listener.name.controller.sasl.enabled.mechanisms=PLAIN
log.dirs=$data
EOF
  "${storage[@]}" format --cluster-id "$CLUSTER_ID" --config "$props" \
    --add-scram "SCRAM-SHA-512=[name=broker,password=$TANDEM_KAFKA_BROKER_PASSWORD]" \
    --add-scram "SCRAM-SHA-512=[name=tandem-admin,password=$TANDEM_KAFKA_ADMIN_PASSWORD]" \
    --add-scram "SCRAM-SHA-512=[name=tandem-relay,password=$TANDEM_KAFKA_RELAY_PASSWORD]"
  rm -f "$props"
  say "formatted $data with the SCRAM users broker, tandem-admin and tandem-relay"
}

# Run as root (compose does: a new volume's mount point is root's), hand what it made to the
# image's user, as whom the broker runs.
give_to_broker() {
  local owner=${KAFKA_OWNER:-appuser}
  if [ "$(id -u)" = 0 ] && id "$owner" >/dev/null 2>&1; then
    chown -R "$owner:" "$secrets" "$data"
  fi
}

make_tls
format_storage
give_to_broker
