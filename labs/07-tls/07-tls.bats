#!/usr/bin/env bats
# 07-tls.bats - lesson 07: lesson 01's echo inside TLS 1.3, as the contract describes it.
#
# Runs against $LAB_BIN/{server,client}: `make test-lab LAB=07 IMPL=starter` for yours.
# The certificates are made once for the file (labs/07-tls/make-certs, into BATS_FILE_TMPDIR).
# The server is tested with a TLS test peer written with Python's ssl (tls_peer below) and
# with the plain one (peer: not TLS at all); the client against the Python reference server
# (harness/reference/07-tls) and tls_peer's stand-in server.  Every test of a refusal also
# checks that the other side saw the refusal, so that a client that never connects fails it.
# Each `likely` names the mistake that would make the next steps fail (harness/lab.bash).

load '../../harness/lab'

START_CAUSE="tls_server_ctx() in tls.c returns NULL, and server.c stops before it listens: run the server by hand with the certificates of labs/07-tls/make-certs and read its line"

REFERENCE=$HARNESS/reference/07-tls
export PYTHONUTF8=1 # the Python programs print UTF-8 whatever the locale

setup_file() {
	export CERTS=$BATS_FILE_TMPDIR/certs
	"$BATS_TEST_DIRNAME/make-certs" "$CERTS"
	# make-certs keeps the keys to their owner; the grader runs the programs under test as
	# another user than the tests.
	chmod -R go+rX "$CERTS"
}

# tls_peer connect HOST PORT [--ca NAME] [--cert NAME] [--name NAME] [--tls12] STEP...
#   A TLS client (Python's ssl) that trusts $CERTS/NAME.pem (default ca), presents the client
#   certificate NAME (--cert), checks the name NAME (default HOST), TLS 1.2 only with --tls12.
#   Steps: send:TEXT (escapes such as \xff decoded), recv (one read: prints recv b'...'),
#   recvn:N (N bytes, or what came before the close), version (prints version V CIPHER),
#   shutdown (our close_notify; prints "shutdown ok" once the server's has come), close (the
#   socket, without close_notify).
#   A failure prints "STEP failed: REASON" (handshake failed: ...) and exits 1.
# tls_peer serve --cert NAME [--require] [--tls12] [--reply TEXT]
#   A stand-in TLS server on 127.0.0.1 port 0 ("listening on" on stderr) for one client:
#   prints "sni NAME" (or "sni none"), "got b'...'" for its first read, sends TEXT, then
#   "rest b'...'" with what came until the client closed, and "close_notify" or
#   "no close_notify".  --require: the client must present a certificate from ca.
read -r -d '' TLS_PEER <<'EOF' || :
import codecs, os, socket, ssl, sys
def fail(msg):
    print(msg, flush=True)
    sys.exit(1)
def unescape(t):
    return codecs.escape_decode(os.fsencode(t))[0]
mode, argv, args, opts = sys.argv[1], sys.argv[2:], [], {}
while argv:
    a = argv.pop(0)
    if a.startswith("--"):
        opts[a[2:]] = True if a in ("--tls12", "--require") else argv.pop(0)
    else:
        args.append(a)
certs, deadline = os.environ["CERTS"], float(os.environ.get("LAB_DEADLINE", "10"))
pem = lambda n: (f"{certs}/{n}.pem", f"{certs}/{n}.key")
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER if mode == "serve" else ssl.PROTOCOL_TLS_CLIENT)
# Whether the peer's close_notify came: its alert, seen by OpenSSL's message callback (recv()
# gives b"" for a bare EOF too, whatever suppress_ragged_eofs says, on some Pythons).
alerts = []
def seen(conn, direction, version, content_type, msg_type, data):
    if direction == "read" and content_type == 21 and len(data) == 2:
        alerts.append(data[1])
ctx._msg_callback = seen
if "tls12" in opts:
    ctx.minimum_version = ctx.maximum_version = ssl.TLSVersion.TLSv1_2
if "cert" in opts:
    ctx.load_cert_chain(*pem(opts["cert"]))
if mode == "serve":
    if "require" in opts:
        ctx.verify_mode = ssl.CERT_REQUIRED
        ctx.load_verify_locations(pem("ca")[0])
    sni = []
    ctx.sni_callback = lambda s, name, c: sni.append(name)
    lsock = socket.create_server(("127.0.0.1", 0))
    print(f"listening on 127.0.0.1:{lsock.getsockname()[1]}", file=sys.stderr, flush=True)
    lsock.settimeout(deadline)
    conn, _ = lsock.accept()
    conn.settimeout(deadline)
    try:
        s = ctx.wrap_socket(conn, server_side=True, suppress_ragged_eofs=False)
    except OSError as e:
        fail(f"handshake failed: {e}")
    print(f"sni {sni[0] if sni and sni[0] else 'none'}", flush=True)
    print(f"got {s.recv(65536)!r}", flush=True)
    if "reply" in opts:
        s.sendall(unescape(opts["reply"]))
    rest = b""
    try:
        while chunk := s.recv(65536):
            rest += chunk
    except OSError:
        pass
    print(f"rest {rest!r}\n{'' if 0 in alerts else 'no '}close_notify", flush=True)
    try:
        s.unwrap()
    except OSError:
        pass
    sys.exit(0)
host, port = args.pop(0), int(args.pop(0))
ctx.load_verify_locations(pem(opts.get("ca", "ca"))[0])
try:
    sock = socket.create_connection((host, port), timeout=deadline)
    s = ctx.wrap_socket(sock, server_hostname=opts.get("name", host), suppress_ragged_eofs=False)
except OSError as e:
    fail(f"handshake failed: {e}")
for step in args:
    verb, _, arg = step.partition(":")
    try:
        if verb == "send":
            s.sendall(unescape(arg))
        elif verb == "recv":
            print(f"recv {s.recv(65536)!r}", flush=True)
        elif verb == "recvn":
            data = b""
            while len(data) < int(arg) and (chunk := s.recv(int(arg) - len(data))):
                data += chunk
            print(f"recvn {data!r}", flush=True)
        elif verb == "version":
            print(f"version {s.version()} {s.cipher()[0]}", flush=True)
        elif verb == "shutdown":
            try:
                s.unwrap()
            except OSError:
                pass
            if 0 not in alerts:
                fail("shutdown failed: no close_notify from the server")
            print("shutdown ok", flush=True)
        elif verb == "close":
            s.close()
        else:
            fail(f"unknown step {step}")
    except OSError as e:
        fail(f"{verb} failed: {e}")
EOF
TLS_PEER_CMD=("$PYTHON" -S -c "$TLS_PEER")
tls_peer() { timeout -k 1 "$DEADLINE" "${TLS_PEER_CMD[@]}" "$@"; }

# start_tls_server [--at ADDRESS] [ARGS...]: the server under test with the certificate for
# localhost, 127.0.0.1 and ::1 (or another, given after it: the last --cert wins).
start_tls_server() {
	local at=127.0.0.1
	[[ ${1:-} != --at ]] || { at=$2; shift 2; }
	start_server_at "$at" --cert "$CERTS/server.pem" --key "$CERTS/server.key" "$@"
}

# handshake_refused: the server's next stderr line is one handshake failure of a client of
# 127.0.0.1, and LINE is that line.
handshake_refused() {
	expect_stderr ': TLS handshake: '
	[[ $LINE =~ ^"server: ('127.0.0.1', "[0-9]+"): TLS handshake: ". ]] ||
		fail "not one line naming the client: $LINE"
}

# still_serving: a good client gets its answer.
still_serving() {
	run tls_peer connect "$HOST" "$PORT" "$@" send:next recv shutdown
	likely "tls_accept() and tls_why() in tls.c: a failing client is that client's failure only (NULL or -1 and a reason), never an exit"
	assert_success
	assert_wire "$output" "recv b'ACK: next'
shutdown ok"
}

# reference_server [ARGS...]: the Python reference server on 127.0.0.1 with the server
# certificate (or another, given after it); SPORT is its port.
reference_server() {
	spawn ref "$PYTHON" -u "$REFERENCE/server.py" --port 0 --cert "$CERTS/server.pem" \
		--key "$CERTS/server.key" "$@"
	expect_line ref err '^listening on [^ ]+:([0-9]+)$'
	SPORT=${BASH_REMATCH[1]}
}

# fake_tls_server [ARGS...]: tls_peer serve; FPORT is its port.
fake_tls_server() {
	spawn standin "${TLS_PEER_CMD[@]}" serve --cert server "$@"
	expect_line standin err '^listening on 127\.0\.0\.1:([0-9]+)$'
	FPORT=${BASH_REMATCH[1]}
}

# tls_client ARGS...: the client under test, trusting the course's CA.
tls_client() { client --ca "$CERTS/ca.pem" "$@"; }

TLS_LINE='TLS: TLSv1.3 TLS_AES_256_GCM_SHA384'

# --- the server ----------------------------------------------------------------------

@test "server prints 'Server listening on HOST:PORT' with the port it really got" {
	start_tls_server
	expect_stdout '^Server listening on '
	assert_equal "$LINE" "Server listening on 127.0.0.1:$PORT"
}

@test "server completes a TLS 1.3 handshake and prints 'TLS: TLSv1.3 CIPHER'" {
	start_tls_server
	likely "tls_accept() in tls.c: SSL_new(ctx), SSL_set_fd(ssl, fd), then SSL_accept(ssl) until it returns 1"
	run tls_peer connect "$HOST" "$PORT" version send:hi recv
	assert_success
	assert_line --index 0 "version TLSv1.3 TLS_AES_256_GCM_SHA384"
	likely "tls_describe() in tls.c: SSL_get_version(ssl), a space, SSL_CIPHER_get_name(SSL_get_current_cipher(ssl))"
	expect_stdout '^TLS: '
	assert_equal "$LINE" "$TLS_LINE"
}

@test "server answers a message with 'ACK: ' followed by the same bytes, over TLS" {
	start_tls_server
	likely "tls_read() and tls_write() in tls.c: SSL_read_ex() and SSL_write_ex() on the SSL (not recv() and send() on the socket)"
	run tls_peer connect "$HOST" "$PORT" 'send:Hello, Server' recv
	assert_success
	assert_wire "$output" "recv b'ACK: Hello, Server'"
}

@test "server prints 'Connection from', then 'TLS:', then 'Received: TEXT'" {
	start_tls_server
	run tls_peer connect "$HOST" "$PORT" 'send:Hello, Server' recv shutdown
	assert_success
	expect_stdout '^Connection from '
	[[ $LINE =~ ^"Connection from ('127.0.0.1', "[0-9]+")"$ ]] || fail "got: $LINE"
	expect_stdout '^(TLS|Received): '
	assert_equal "$LINE" "$TLS_LINE"
	likely "tls_read() in tls.c returns how many bytes SSL_read_ex() gave (its last argument), not its 1"
	expect_stdout '^Received: '
	assert_equal "$LINE" "Received: Hello, Server"
}

@test "server answers every message of one connection, in order" {
	start_tls_server
	likely "tls_read() in tls.c: 0 only for SSL_ERROR_ZERO_RETURN (close_notify); a message is more than 0 bytes"
	run tls_peer connect "$HOST" "$PORT" send:one recv send:two recv
	assert_success
	assert_wire "$output" "recv b'ACK: one'
recv b'ACK: two'"
}

@test "server reads at most 1024 bytes at a time: 1500 bytes get two ACKs" {
	start_tls_server
	local a1024 a476
	printf -v a1024 '%*s' 1024 ''
	a1024=${a1024// /a}
	a476=${a1024:0:476}
	likely "tls_read() in tls.c reads at most n bytes, and tls_write() sends all n it is given"
	run tls_peer connect "$HOST" "$PORT" "send:$a1024$a476" recvn:1510
	assert_success
	assert_wire "$output" "recvn b'ACK: ${a1024}ACK: ${a476}'"
}

@test "server prints bytes that are not UTF-8 as \\xNN, and keeps serving" {
	start_tls_server
	run tls_peer connect "$HOST" "$PORT" 'send:caf\xc3\xa9 \xff\xfe!' recv shutdown
	assert_success
	assert_wire "$output" "recv b'ACK: caf\\xc3\\xa9 \\xff\\xfe!'
shutdown ok"
	expect_stdout '^Received: '
	assert_equal "$LINE" 'Received: café \xff\xfe!'
	still_serving
}

@test "server answers the client's close_notify with its own (SSL_shutdown)" {
	start_tls_server
	run tls_peer connect "$HOST" "$PORT" send:bye recv shutdown
	local peer_said=$output
	finish server TERM # all it printed, now
	likely "tls_read() in tls.c takes close_notify for an error: SSL_ERROR_ZERO_RETURN is the proper end, return 0"
	run output_of server err
	assert_equal "${#lines[@]}" 1 # only "listening on": a proper close is no error
	likely "tls_close() in tls.c sends no close_notify: SSL_shutdown(ssl) (1: both sides are done)"
	assert_wire "$peer_said" "recv b'ACK: bye'
shutdown ok"
}

@test "server serves the next client after the first one leaves" {
	start_tls_server
	run tls_peer connect "$HOST" "$PORT" send:first recv shutdown
	assert_success
	run tls_peer connect "$HOST" "$PORT" send:second recv shutdown
	assert_success
	assert_wire "$output" "recv b'ACK: second'
shutdown ok"
}

@test "server says so when a client closes without close_notify (a cut), and goes on" {
	start_tls_server
	run tls_peer connect "$HOST" "$PORT" send:cut recv close
	assert_success
	expect_stderr "^server: \('127\.0\.0\.1', [0-9]+\): "
	likely "tls_why() in tls.c: for SSL_ERROR_SSL (or SSL_ERROR_SYSCALL with errno 0), OpenSSL's reason: \"unexpected eof while reading\""
	assert_regex "$LINE" 'unexpected eof'
	still_serving
}

@test "server: a plain TCP client gets one line on stderr, no echo, and the server goes on" {
	start_tls_server
	run peer connect "$HOST" "$PORT" 'send:Hello, Server' recvall
	assert_success
	refute_output --partial 'ACK'
	likely "tls_accept() in tls.c: a failed SSL_accept() is that client's failure: tls_why(), SSL_free(), return NULL"
	handshake_refused
	still_serving
}

@test "server: garbage instead of a ClientHello gets one line on stderr, and the server goes on" {
	start_tls_server
	run peer connect "$HOST" "$PORT" 'send:\x16\x03\x01\x00\x05hello' shut recvall
	assert_success
	refute_output --partial 'ACK'
	handshake_refused
	still_serving
}

@test "server drops a client that stalls mid-handshake after --timeout, says 'timed out', serves the next" {
	start_tls_server --timeout 0.5
	spawn stall "${PEER[@]}" connect "$HOST" "$PORT" 'send:\x16\x03\x01\x02' recvall
	expect_stdout '^Connection from '
	# This client waits in the backlog until the stalled one is dropped.
	run tls_peer connect "$HOST" "$PORT" send:next recv
	assert_success
	assert_wire "$output" "recv b'ACK: next'"
	handshake_refused
	likely "tls_why() in tls.c: SSL_ERROR_WANT_READ (or _WRITE) on a blocking socket means SO_RCVTIMEO ran out: \"timed out\""
	assert_regex "$LINE" 'timed out$'
	expect_line stall out '^recvall b'
}

@test "server: a client that trusts another CA refuses it; one line, and the server goes on" {
	start_tls_server
	run tls_peer connect "$HOST" "$PORT" --ca ca2 send:hi
	assert_failure
	assert_output --partial 'handshake failed: '
	handshake_refused
	likely "tls_why() in tls.c: for SSL_ERROR_SSL, OpenSSL's reason (ERR_reason_error_string(ERR_peek_last_error())): here the client's alert"
	assert_regex "$LINE" 'unknown ca$'
	still_serving
}

@test "server refuses a TLS 1.2-only client (TLS 1.3 only), and goes on" {
	start_tls_server
	likely "tls_server_ctx() in tls.c: SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION), or TLS 1.2 is welcome too"
	run tls_peer connect "$HOST" "$PORT" --tls12 send:hi recv
	assert_failure
	assert_output --partial 'handshake failed: '
	handshake_refused
	still_serving
}

@test "server --require-client-cert serves a client with a certificate from --ca" {
	start_tls_server --require-client-cert --ca "$CERTS/ca.pem"
	likely "tls_server_ctx() in tls.c, with ca: SSL_CTX_load_verify_locations(ctx, ca, NULL), the CA the clients' certificates come from"
	run tls_peer connect "$HOST" "$PORT" --cert client send:mutual recv shutdown
	assert_success
	assert_wire "$output" "recv b'ACK: mutual'
shutdown ok"
}

@test "server --require-client-cert refuses a client without a certificate, and goes on" {
	start_tls_server --require-client-cert --ca "$CERTS/ca.pem"
	likely "tls_server_ctx() in tls.c, with ca: SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL)"
	run tls_peer connect "$HOST" "$PORT" send:anon recv
	assert_failure
	handshake_refused
	assert_regex "$LINE" 'certificate'
	still_serving --cert client
}

@test "server --require-client-cert refuses a client certificate another CA signed" {
	start_tls_server --require-client-cert --ca "$CERTS/ca.pem"
	run tls_peer connect "$HOST" "$PORT" --cert stranger send:who recv
	assert_failure
	handshake_refused
	likely "tls_why() in tls.c: a failed verification is SSL_get_verify_result(ssl) != X509_V_OK, said with X509_verify_cert_error_string()"
	assert_regex "$LINE" 'certificate verify failed: unable to get local issuer certificate$'
	still_serving --cert client
}

@test "server refuses to start with a key that is not the certificate's: one line, exit 1" {
	likely "tls_server_ctx() in tls.c: SSL_CTX_use_PrivateKey_file() and SSL_CTX_check_private_key(), each failure with OpenSSL's reason (tls_fail())"
	run --separate-stderr timeout "$DEADLINE" "$LAB_BIN/server" --port 0 \
		--cert "$CERTS/server.pem" --key "$CERTS/other.key"
	assert_equal "$status" 1
	assert_equal "${#stderr_lines[@]}" 1
	assert_regex "${stderr_lines[0]}" 'match'
}

@test "server on ::1 (IPv6): the certificate names ::1, the client is ('::1', PORT, 0, 0)" {
	start_tls_server --at ::1
	run tls_peer connect ::1 "$PORT" send:v6 recv shutdown
	assert_success
	assert_wire "$output" "recv b'ACK: v6'
shutdown ok"
	expect_stdout '^Connection from '
	[[ $LINE =~ ^"Connection from ('::1', "[0-9]+", 0, 0)"$ ]] || fail "got: $LINE"
}

@test "server on :: takes IPv4 clients too, as ('::ffff:127.0.0.1', PORT, 0, 0)" {
	start_tls_server --at ::
	run tls_peer connect 127.0.0.1 "$PORT" send:v4 recv shutdown
	assert_success
	assert_line --index 0 "recv b'ACK: v4'"
	expect_stdout '^Connection from '
	[[ $LINE =~ ^"Connection from ('::ffff:127.0.0.1', "[0-9]+", 0, 0)"$ ]] || fail "got: $LINE"
}

@test "server exits 0 on SIGTERM, even with a client connected" {
	start_tls_server
	spawn idle "${TLS_PEER_CMD[@]}" connect "$HOST" "$PORT" send:x recv recv
	expect_line idle out "^recv b'ACK: x'$"
	finish server TERM
	assert_equal "$STATUS" 0
}

# --- the client ------------------------------------------------------------------------

@test "client checks the server, prints 'TLS: TLSv1.3 CIPHER' and 'Server replied: TEXT'" {
	reference_server
	likely "tls_client_ctx() or tls_connect() in tls.c fails: run the client by hand (the page shows how) and read its line"
	run --separate-stderr tls_client --port "$SPORT"
	assert_success
	assert_output "$TLS_LINE
Server replied: ACK: Hello, Server"
	expect_line ref out '^Received: '
	assert_equal "$LINE" 'Received: Hello, Server'
}

@test "client --message sends exactly the message's bytes, and closes with close_notify" {
	fake_tls_server --reply 'ok'
	run tls_client --port "$FPORT" --message 'héllo, wörld'
	assert_success
	assert_line --index 1 'Server replied: ok'
	expect_line standin out '^got '
	assert_wire "$LINE" "got b'h\\xc3\\xa9llo, w\\xc3\\xb6rld'"
	likely "tls_close() in tls.c: SSL_shutdown(ssl) sends close_notify; if it returns 0, read until SSL_ERROR_ZERO_RETURN"
	expect_line standin out 'close_notify$'
	assert_equal "$LINE" 'close_notify'
}

@test "client prints reply bytes that are not UTF-8 as \\xNN" {
	fake_tls_server --reply 'ok \xff\xc3(end)'
	run tls_client --port "$FPORT"
	assert_success
	assert_output "$TLS_LINE
Server replied: ok \\xff\\xc3(end)"
}

@test "client names the server in SNI (--servername localhost), and sends no name for an IP address" {
	fake_tls_server --reply 'ok'
	run tls_client --host 127.0.0.1 --servername localhost --port "$FPORT"
	assert_success
	likely "tls_connect() in tls.c: SSL_set_tlsext_host_name(ssl, name) before SSL_connect()"
	expect_line standin out '^sni '
	assert_equal "$LINE" 'sni localhost'
	fake_tls_server --reply 'ok'
	run tls_client --port "$FPORT"
	assert_success
	likely "tls_connect() in tls.c sends an IP address as SNI: RFC 6066 allows host names only (inet_pton() tells an address)"
	expect_line standin out '^sni '
	assert_equal "$LINE" 'sni none'
}

@test "client refuses a server whose certificate another CA signed: one line, exit 1" {
	reference_server
	likely "tls_client_ctx() in tls.c: SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL), or the client notes a failed check and goes on"
	run --separate-stderr client --ca "$CERTS/ca2.pem" --port "$SPORT"
	assert_failure
	assert_equal "$output" ""
	assert_equal "${#stderr_lines[@]}" 1
	assert_regex "${stderr_lines[0]}" 'certificate verify failed'
	expect_line ref err 'TLS handshake: '
}

@test "client checks the name: a certificate for example.org is refused for 127.0.0.1" {
	reference_server --cert "$CERTS/other.pem" --key "$CERTS/other.key"
	likely "tls_connect() in tls.c: SSL_set1_host(ssl, name), or any certificate the CA signed will do"
	run --separate-stderr tls_client --port "$SPORT"
	assert_failure
	assert_equal "$output" ""
	assert_equal "${#stderr_lines[@]}" 1
	assert_regex "${stderr_lines[0]}" 'mismatch'
	likely "tls_connect() in tls.c checks the name it is given (the client passes --servername, else --host)"
	run --separate-stderr tls_client --port "$SPORT" --servername example.org
	assert_success
	assert_output "$TLS_LINE
Server replied: ACK: Hello, Server"
}

@test "client refuses an expired certificate: one line, exit 1" {
	reference_server --cert "$CERTS/expired.pem" --key "$CERTS/expired.key"
	run --separate-stderr tls_client --port "$SPORT"
	assert_failure
	assert_equal "$output" ""
	assert_equal "${#stderr_lines[@]}" 1
	likely "tls_why() in tls.c: a failed verification is SSL_get_verify_result(ssl) != X509_V_OK, said with X509_verify_cert_error_string()"
	assert_regex "${stderr_lines[0]}" 'expired'
	expect_line ref err 'TLS handshake: '
}

@test "client --client-cert --client-key: mutual TLS with a server that requires it" {
	reference_server --require-client-cert --ca "$CERTS/ca.pem"
	likely "tls_client_ctx() in tls.c, with cert and key: SSL_CTX_use_certificate_chain_file() and SSL_CTX_use_PrivateKey_file()"
	run --separate-stderr tls_client --port "$SPORT" \
		--client-cert "$CERTS/client.pem" --client-key "$CERTS/client.key"
	assert_success
	assert_output "$TLS_LINE
Server replied: ACK: Hello, Server"
}

@test "client without a certificate, to a server that requires one: one line, exit 1" {
	reference_server --require-client-cert --ca "$CERTS/ca.pem"
	run --separate-stderr tls_client --port "$SPORT"
	assert_failure
	# TLS 1.3: the client's handshake is over before the server has judged its certificate.
	assert_output "$TLS_LINE"
	assert_equal "${#stderr_lines[@]}" 1
	expect_line ref err 'TLS handshake: '
	assert_regex "$LINE" 'did not return a certificate'
}

@test "client refuses a TLS 1.2-only server (TLS 1.3 only): one line, exit 1" {
	fake_tls_server --tls12
	likely "tls_client_ctx() in tls.c: SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION), or the client accepts TLS 1.2"
	run --separate-stderr tls_client --port "$FPORT"
	assert_failure
	assert_equal "$output" ""
	assert_equal "${#stderr_lines[@]}" 1
	expect_line standin out '^(handshake failed|sni)'
	assert_regex "$LINE" '^handshake failed: .*(version|protocol)'
}

@test "client gives up on a server that stalls in the handshake after --timeout" {
	spawn standin "${PEER[@]}" serve --recvall
	expect_line standin err '^listening on 127\.0\.0\.1:([0-9]+)$'
	run --separate-stderr tls_client --port "${BASH_REMATCH[1]}" --timeout 0.5
	assert_failure
	assert_equal "${#stderr_lines[@]}" 1
	likely "tls_why() in tls.c: SSL_ERROR_WANT_READ (or _WRITE) on a blocking socket means SO_RCVTIMEO ran out: \"timed out\""
	assert_regex "${stderr_lines[0]}" 'timed out'
	expect_line standin out '^all '
	assert_regex "$LINE" "^all b['\"]\\\\x16\\\\x03\\\\x01" # a ClientHello: 16 03 01 (repr: ' or ")
}

@test "client reaches a server on ::1 (IPv6) with --host ::1: the certificate names ::1" {
	reference_server --host ::1
	run --separate-stderr tls_client --host ::1 --port "$SPORT" --message 'over v6'
	assert_success
	assert_output "$TLS_LINE
Server replied: ACK: over v6"
}

@test "client and server talk to each other over TLS, on localhost" {
	# A bare chroot (debootstrap minbase) has no /etc/hosts: "localhost" names nothing there.
	getent hosts localhost >/dev/null || skip "localhost does not resolve on this machine (no /etc/hosts entry)"
	start_tls_server --at localhost
	run --separate-stderr tls_client --host localhost --port "$PORT" --message 'ping'
	assert_success
	assert_output "$TLS_LINE
Server replied: ACK: ping"
	expect_stdout '^Received: '
	assert_equal "$LINE" 'Received: ping'
}
