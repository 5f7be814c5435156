"""The mistake catalogue of the lessons, each as a mutant of its solution.

Each Mutant is one typical mistake of a learner's (the lesson pages' "Common mistakes"),
written into the reference solution as exact text replacements (old, new) on one file, the
bats tests that must catch it (FILTER, a regular expression on test names, as bats
--filter), and the words that the failure must say (CAUSE: a part of its "Likely cause:"
line, which lab.bash's `likely` prints).  Each old text must be in the current solution
exactly once: if the solution has changed so that one no longer is, the mutant fails with
its name, and the entry needs updating (the mistake, not the test's expectation).

run.py builds and runs them; harness/tests/test_mutants.py runs them all in `make test`.
A mistake that no test on the wire can see (memcmp's early exit, one send() where a loop is
needed on loopback) is not here: the lesson page says so.
"""
from collections import namedtuple

Mutant = namedtuple("Mutant", "name lab file replacements filter cause what")

MUTANTS = [
    # --- 01 TCP echo -----------------------------------------------------------------
    Mutant(
        "01-reads-once", "01-tcp", "server.c",
        [("\tfor (;;) {\n\t\tif ((n = recv(conn, buf, sizeof buf, 0)) < 0 && errno == EINTR)",
          "\tfor (int once = 1; once; once = 0) {\n"
          "\t\tif ((n = recv(conn, buf, sizeof buf, 0)) < 0 && errno == EINTR)")],
        r"^server answers every message of one connection",
        "serve() in server.c reads once per connection",
        "serve() reads one chunk and returns: one recv() per connection"),
    Mutant(
        "01-closes-listener", "01-tcp", "server.c",
        [("\t\tserve(conn, who);\n\t\tclose(conn);\n",
          "\t\tserve(conn, who);\n\t\tclose(lfd);\n\t\tclose(conn);\n")],
        r"^server serves the next client after the first one leaves$",
        "main() in server.c closes the listening socket",
        "main() closes the listening socket after the first client"),
    Mutant(
        "01-server-ignores-port", "01-tcp", "server.c",
        # 65431, not the lesson's 65432: test_grade.py holds 65432 while it runs, beside.
        [("\tlfd = open_listener(host, port);",
          "\tlfd = open_listener(host, \"65431\");")],
        r"^server listens on the port --port gives",
        "main() in server.c ignores --port",
        "the server binds a port of its own whatever --port says"),
    Mutant(
        "01-client-ignores-port", "01-tcp", "client.c",
        [("\tif ((rc = getaddrinfo(host, port, &hints, &res)) != 0)",
          "\tif ((rc = getaddrinfo(host, \"65432\", &hints, &res)) != 0)")],
        r"^client connects to the port --port gives",
        "main() in client.c ignores --port",
        "the client connects to 65432 whatever --port says"),
    Mutant(
        "01-server-no-prefix", "01-tcp", "server.c",
        [("\t\tlab_print_text(stdout, \"Received: \", buf, (size_t)n);",
          "\t\tlab_print_text(stdout, \"\", buf, (size_t)n);")],
        r"^server prints 'Received: TEXT'",
        "serve() in server.c prints the chunk without its prefix",
        "the server prints the chunk without \"Received: \""),
    Mutant(
        "01-client-no-prefix", "01-tcp", "client.c",
        [("\tlab_print_text(stdout, \"Server replied: \", buf, (size_t)n);",
          "\tlab_print_text(stdout, \"\", buf, (size_t)n);")],
        r"^client sends 'Hello, Server' and prints",
        "main() in client.c prints the reply without its prefix",
        "the client prints the reply without \"Server replied: \""),
    Mutant(
        "01-no-ack", "01-tcp", "server.c",
        [("\t\tif (send_all(conn, reply, 5 + (size_t)n) < 0) {",
          "\t\tif (send_all(conn, buf, (size_t)n) < 0) {")],
        r"^server answers a message with 'ACK: '",
        "the reply is \"ACK: \" and then the bytes",
        "the server echoes the chunk without \"ACK: \""),
    Mutant(
        "01-strlen", "01-tcp", "server.c",
        [("\t\tif (send_all(conn, reply, 5 + (size_t)n) < 0) {",
          "\t\tif (send_all(conn, reply, 5 + strlen(buf)) < 0) {")],
        r"^server answers and prints the bytes as they are, a NUL",
        "treats the data as a C string",
        "the reply's length is strlen(buf): the data as a C string"),
    Mutant(
        "01-timeout-ends-server", "01-tcp", "server.c",
        [("\t\t\twarnx(\"%s: timed out\", who); /* SO_RCVTIMEO: silent too long */\n\t\t\treturn;",
          "\t\t\terrx(1, \"%s: timed out\", who);")],
        r"^server drops a client silent for --timeout",
        "that client is dropped, and the next one served",
        "a client that times out ends the server (errx instead of warnx)"),
    Mutant(
        "01-no-timeout", "01-tcp", "server.c",
        [("\t\tif (setsockopt(conn, SOL_SOCKET, SO_RCVTIMEO, &idle, sizeof idle) < 0 ||\n"
          "\t\t    setsockopt(conn, SOL_SOCKET, SO_SNDTIMEO, &idle, sizeof idle) < 0)\n"
          "\t\t\terr(1, \"setsockopt\");\n", "")],
        r"^server drops a client silent for --timeout",
        "main() in server.c gives the client no --timeout",
        "no SO_RCVTIMEO: a silent client holds the server for ever"),
    Mutant(
        "01-timeout-not-said", "01-tcp", "server.c",
        [("\t\t\twarnx(\"%s: timed out\", who); /* SO_RCVTIMEO: silent too long */",
          "\t\t\twarn(\"%s: recv\", who);")],
        r"^server drops a client silent for --timeout",
        "does not say \"timed out\"",
        "the --timeout is reported as strerror(EAGAIN)"),
]

MUTANTS += [
    # --- 02 UDP ----------------------------------------------------------------------
    Mutant(
        "02-reply-sizeof", "02-udp", "server.c",
        [("sendto(fd, \"Message received\", 16, 0,",
          "sendto(fd, \"Message received\", sizeof \"Message received\", 0,")],
        r"^server answers a datagram with 'Message received'$",
        "the 16 bytes \"Message received\" (sizeof counts the NUL too)",
        "the reply's length is sizeof \"Message received\": 17 bytes, the NUL on the wire"),
    Mutant(
        "02-skips-empty", "02-udp", "server.c",
        [("\t\t/* An empty datagram (n == 0) is a datagram too: it is printed and answered. */\n",
          "\t\tif (n == 0)\n\t\t\tcontinue;\n")],
        r"^server answers an empty datagram too$",
        "main() in server.c skips an empty datagram",
        "the server takes recvfrom()'s 0 for nothing: an empty datagram is neither printed "
        "nor answered"),
    Mutant(
        "02-send-in-pieces", "02-udp", "client.c",
        [("\tif (sendto(fd, message, strlen(message), 0, res->ai_addr, res->ai_addrlen) < 0)\n"
          "\t\terr(1, \"sendto %s:%s\", host, port);\n",
          "\tfor (size_t sent = 0, len = strlen(message), put; sent < len; sent += put) {\n"
          "\t\tput = len - sent < 256 ? len - sent : 256;\n"
          "\t\tif (sendto(fd, message + sent, put, 0, res->ai_addr, res->ai_addrlen) < 0)\n"
          "\t\t\terr(1, \"sendto %s:%s\", host, port);\n"
          "\t}\n")],
        r"^client sends a 1000-byte message as one datagram$",
        "main() in client.c sends the message in pieces",
        "a stream-style send loop in chunks of 256 bytes: several datagrams"),
    Mutant(
        "02-send-loop", "02-udp", "client.c",
        [("\tif (sendto(fd, message, strlen(message), 0, res->ai_addr, res->ai_addrlen) < 0)\n"
          "\t\terr(1, \"sendto %s:%s\", host, port);\n",
          "\tfor (size_t sent = 0, len = strlen(message); sent < len;) {\n"
          "\t\tssize_t put = sendto(fd, message + sent, len - sent, 0, res->ai_addr,\n"
          "\t\t                     res->ai_addrlen);\n"
          "\t\tif (put < 0)\n"
          "\t\t\terr(1, \"sendto %s:%s\", host, port);\n"
          "\t\tsent += (size_t)put;\n"
          "\t}\n")],
        r"^client sends an empty --message as an empty datagram",
        "main() in client.c sends nothing for an empty message",
        "lesson 01's send loop on UDP: for an empty message it sends no datagram at all"),
    Mutant(
        "02-no-reply-timeout", "02-udp", "client.c",
        [("\tif (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) < 0)\n"
          "\t\terr(1, \"setsockopt\");\n", "\t(void)tv;\n")],
        r"^client gives up after --timeout",
        "main() in client.c waits for ever for the reply",
        "no SO_RCVTIMEO: the client waits for ever for a lost reply"),
    Mutant(
        "02-client-no-prefix", "02-udp", "client.c",
        [("\tlab_print_text(stdout, \"Response: \", buf, (size_t)n);",
          "\tlab_print_text(stdout, \"\", buf, (size_t)n);")],
        r"^client sends 'Hello via UDP' as one datagram",
        "main() in client.c prints the reply without its prefix",
        "the client prints the reply without \"Response: \""),
]

MUTANTS += [
    # --- 03 Sticky packets -------------------------------------------------------------
    Mutant(
        "03-sizeof-pointer", "03-sticky-packets", "server.c",
        [("\twhile ((n = lab_recv(conn, buf, bufsize)) > 0)",
          "\t(void)bufsize;\n\twhile ((n = lab_recv(conn, buf, sizeof buf)) > 0)")],
        r"^server: two sends, 'Hello' and 'World', arrive as one chunk",
        "not sizeof buf: buf is a pointer, 8 bytes",
        "recv(conn, buf, sizeof buf) with char *buf: 8 bytes at a time"),
    Mutant(
        "03-no-timeout", "03-sticky-packets", "server.c",
        [("\tif (lab_set_timeout(conn, timeout) < 0)\n\t\terr(1, \"setsockopt\");\n",
          "\t(void)timeout;\n")],
        r"^server drops a client silent for --timeout",
        "serve_stream() in server.c gives the connection no --timeout",
        "no timeout on the connection: a silent client holds the server for ever"),
    Mutant(
        "03-timeout-not-said", "03-sticky-packets", "server.c",
        [("\t\twarnx(\"client silent for %g s: timed out\", timeout);",
          "\t\twarn(\"recv\");")],
        r"^server drops a client silent for --timeout",
        "does not say \"timed out\"",
        "the --timeout reported as strerror(EAGAIN)"),
    Mutant(
        "03-timeout-exits-0", "03-sticky-packets", "server.c",
        [("\treturn n < 0 ? 1 : 0;\n}", "\treturn 0;\n}")],
        r"^server drops a client silent for --timeout",
        "returns 0 after a failed recv()",
        "a failed recv() ends the server with 0, as a success"),
    Mutant(
        "03-udp-blocking", "03-sticky-packets", "server.c",
        [("\tif (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) < 0)\n\t\terr(1, \"fcntl\");\n",
          "")],
        r"^server --udp: two datagrams stay two messages",
        "make the socket non-blocking (O_NONBLOCK)",
        "a blocking UDP loop: the recv() after the last datagram waits for ever"),
    Mutant(
        "03-udp-stops-at-empty", "03-sticky-packets", "server.c",
        [("\twhile ((n = recv(fd, buf, bufsize, 0)) >= 0)",
          "\twhile ((n = recv(fd, buf, bufsize, 0)) > 0)")],
        r"^server --udp: an empty datagram is a message too",
        "serve_datagrams() in server.c stops at an empty datagram",
        "n <= 0 ends the UDP loop: an empty datagram and all after it are lost"),
    Mutant(
        "03-separator", "03-sticky-packets", "client.c",
        [("\t\tif ((udp ? send(fd, messages[i], len, 0) : lab_writen(fd, messages[i], len)) < 0)\n"
          "\t\t\terr(1, \"send\");\n",
          "\t\tif ((udp ? send(fd, messages[i], len, 0) : lab_writen(fd, messages[i], len)) < 0)\n"
          "\t\t\terr(1, \"send\");\n"
          "\t\tif (!udp && lab_writen(fd, \"\\n\", 1) < 0)\n"
          "\t\t\terr(1, \"send\");\n")],
        r"^client sends 'Hello' and 'World', then closes",
        "nothing between them (no newline, no space)",
        "a newline after each message over TCP"),
    Mutant(
        "03-udp-writen", "03-sticky-packets", "client.c",
        [("(udp ? send(fd, messages[i], len, 0) : lab_writen(fd, messages[i], len))",
          "lab_writen(fd, messages[i], len)")],
        r"^client --udp sends each message as its own datagram",
        "an empty message is an empty datagram",
        "lab_writen() over UDP: an empty message sends no datagram"),
]

MUTANTS += [
    # --- 04 Struct framing -------------------------------------------------------------
    Mutant(
        "04-recv-little-endian", "04-struct-framing", "frame.c",
        [("\tn = (uint32_t)header[0] << 24 | (uint32_t)header[1] << 16 | (uint32_t)header[2] << 8 |\n"
          "\t    header[3];",
          "\tn = (uint32_t)header[3] << 24 | (uint32_t)header[2] << 16 | (uint32_t)header[1] << 8 |\n"
          "\t    header[0];")],
        r"^server prints 'Received Payload: X' with X as Python prints the dict",
        "not 2 bytes and not little-endian",
        "frame_recv() decodes the header little-endian"),
    Mutant(
        "04-recv-2-byte-header", "04-struct-framing", "frame.c",
        [("\tgot = frame_recvall(fd, header, sizeof header);",
          "\tgot = frame_recvall(fd, header, 2);"),
         ("\tif (got < FRAME_HEADER) {\n\t\t*len = (size_t)got;",
          "\tif (got < 2) {\n\t\t*len = (size_t)got;"),
         ("\tn = (uint32_t)header[0] << 24 | (uint32_t)header[1] << 16 | (uint32_t)header[2] << 8 |\n"
          "\t    header[3];",
          "\tn = (uint32_t)header[0] << 8 | header[1];")],
        r"^server prints 'Received Payload: X' with X as Python prints the dict",
        "not 2 bytes and not little-endian",
        "frame_recv() takes a 2-byte header (a uint16_t)"),
    Mutant(
        "04-send-little-endian", "04-struct-framing", "frame.c",
        [("\tbuf[0] = (unsigned char)(n >> 24);\n\tbuf[1] = (unsigned char)(n >> 16);\n"
          "\tbuf[2] = (unsigned char)(n >> 8);\n\tbuf[3] = (unsigned char)n;\n",
          "\tmemcpy(buf, &n, 4); /* as it is in memory: little-endian here */\n")],
        r"^client sends the default document as one frame",
        "frame_send() in frame.c: the header is the length in 4 bytes, big-endian",
        "frame_send() copies the uint32_t as it is in memory: a little-endian header"),
    Mutant(
        "04-send-2-byte-header", "04-struct-framing", "frame.c",
        [("\tbuf[0] = (unsigned char)(n >> 24);\n\tbuf[1] = (unsigned char)(n >> 16);\n"
          "\tbuf[2] = (unsigned char)(n >> 8);\n\tbuf[3] = (unsigned char)n;\n"
          "\tmemcpy(buf + FRAME_HEADER, payload, len);\n",
          "\tbuf[0] = (unsigned char)(n >> 8);\n\tbuf[1] = (unsigned char)n;\n"
          "\tmemcpy(buf + 2, payload, len);\n"),
         ("\trc = lab_writen(fd, buf, FRAME_HEADER + len) < 0 ? -1 : 0;",
          "\trc = lab_writen(fd, buf, 2 + len) < 0 ? -1 : 0;")],
        r"^client sends the default document as one frame",
        "frame_send() in frame.c: the header is the length in 4 bytes, big-endian",
        "frame_send() writes a 2-byte header"),
    Mutant(
        "04-recvall-one-recv", "04-struct-framing", "frame.c",
        [("\t\thave += (size_t)got;\n\t}\n\treturn (ssize_t)have;",
          "\t\thave += (size_t)got;\n\t\tbreak; /* one recv(), whatever it returned */\n"
          "\t}\n\treturn (ssize_t)have;")],
        r"^server reads a frame that arrives one byte at a time$",
        "frame_recvall() in frame.c stops after one recv()",
        "frame_recvall() trusts one recv() to return all n bytes"),
    Mutant(
        "04-recvall-no-offset", "04-struct-framing", "frame.c",
        [("\t\tif ((got = recv(fd, (char *)buf + have, n - have, 0)) < 0) {",
          "\t\tif ((got = recv(fd, (char *)buf, n - have, 0)) < 0) {")],
        r"^server reads a frame that arrives one byte at a time$",
        "puts every recv() at the start of buf",
        "frame_recvall() loops, but reads every chunk into the start of buf"),
    Mutant(
        "04-recvall-asks-n", "04-struct-framing", "frame.c",
        [("\t\tif ((got = recv(fd, (char *)buf + have, n - have, 0)) < 0) {",
          "\t\tif ((got = recv(fd, (char *)buf + have, n, 0)) < 0) {")],
        r"^server --echo: a frame's rest and the next frame arrive together",
        "asks recv() for n bytes every time",
        "frame_recvall() asks for n bytes each time, not the n - have still missing"),
    Mutant(
        "04-alloc-announced", "04-struct-framing", "frame.c",
        [("\tcap = n < FRAME_CHUNK ? n : FRAME_CHUNK;", "\tcap = n;")],
        r"^server: memory for a payload grows as its bytes arrive",
        "frame_recv() in frame.c allocates what the header announces",
        "frame_recv() mallocs the announced length at once"),
    Mutant(
        "04-no-max-check", "04-struct-framing", "frame.c",
        [("\tif (n > max) {", "\tif (max == 0 && n > max) {")],
        r"^server --max-frame 10 refuses an 11-byte frame",
        "does not refuse a length over max",
        "frame_recv() never refuses a length over --max-frame"),
    Mutant(
        "04-max-off-by-one", "04-struct-framing", "frame.c",
        [("\tif (n > max) {", "\tif (n >= max) {")],
        r"^server --max-frame 10 refuses an 11-byte frame",
        "or refuses max itself",
        "frame_recv() refuses a frame of exactly --max-frame bytes"),
    Mutant(
        "04-short-header-error", "04-struct-framing", "frame.c",
        [("\tif (got < FRAME_HEADER) {\n\t\t*len = (size_t)got;\n\t\treturn 0;\n\t}",
          "\tif (got < FRAME_HEADER) {\n\t\t*len = (size_t)got;\n"
          "\t\tsnprintf(err, errlen, \"frame header cut short\");\n\t\treturn -1;\n\t}")],
        r"^server: a peer that closes before a whole header",
        "a peer that closed before the 4 header bytes is no error",
        "a header cut short is an error, not the seed's None"),
    Mutant(
        "04-timeout-not-said", "04-struct-framing", "frame.c",
        [("\treturn errno == EAGAIN || errno == EWOULDBLOCK ? \"timed out\" : strerror(errno);",
          "\treturn strerror(errno);")],
        r"^server --echo drops a client that stalls mid-frame",
        "reports the --timeout as strerror(EAGAIN)",
        "the --timeout reported as strerror(EAGAIN)"),
]

MUTANTS += [
    # --- 05 HMAC challenge-response ----------------------------------------------------
    Mutant(
        "05-always-md5", "05-hmac-auth", "auth.c",
        [("strcmp(digest, \"md5\") == 0 ? \"MD5\" : \"SHA256\"", "\"MD5\""),
         ("\treturn outlen == want ? 0 : -1;", "\treturn 0;")],
        r"^server --digest sha256 --key-file grants access",
        "auth_hmac() in auth.c does not use the digest it is asked for",
        "auth_hmac() is HMAC-MD5 whatever the digest, its length unchecked"),
    Mutant(
        "05-always-sha1", "05-hmac-auth", "auth.c",
        [("strcmp(digest, \"md5\") == 0 ? \"MD5\" : \"SHA256\"", "\"SHA1\""),
         ("\treturn outlen == want ? 0 : -1;", "\treturn 0;")],
        r"^server grants access to the right HMAC-MD5",
        "auth_hmac() writes HMAC(key, msg) with the digest named",
        "auth_hmac() is HMAC-SHA1, its length unchecked"),
    Mutant(
        "05-equal-inverted", "05-hmac-auth", "auth.c",
        [("\treturn CRYPTO_memcmp(a, b, n) == 0;", "\treturn CRYPTO_memcmp(a, b, n);")],
        r"^server refuses the wrong key$",
        "auth_equal() in auth.c says equal for different bytes",
        "auth_equal() returns CRYPTO_memcmp()'s result as it is: 0 for equal"),
    Mutant(
        "05-fixed-challenge", "05-hmac-auth", "auth.c",
        [("\treturn RAND_bytes(buf, (int)n) == 1 ? 0 : -1;",
          "\tmemset(buf, 0x5a, n);\n\treturn 0;")],
        r"^server refuses a replayed answer",
        "auth_challenge() in auth.c gives the same challenge every time",
        "auth_challenge() fills buf with a constant (memset), not the CSPRNG"),
    Mutant(
        "05-challenge-once", "05-hmac-auth", "auth.c",
        [("\treturn RAND_bytes(buf, (int)n) == 1 ? 0 : -1;",
          "\tstatic unsigned char first[AUTH_CHALLENGE];\n\tstatic int drawn;\n\n"
          "\tif (!drawn && RAND_bytes(first, (int)sizeof first) != 1)\n\t\treturn -1;\n"
          "\tdrawn = 1;\n\tmemcpy(buf, first, n);\n\treturn 0;")],
        r"^server refuses a replayed answer",
        "auth_challenge() in auth.c gives the same challenge every time",
        "auth_challenge() draws random bytes once, and hands out the same every time"),
]

MUTANTS += [
    # --- 06 Concurrency ----------------------------------------------------------------
    Mutant(
        "06-shared-job", "06-concurrency", "model_thread.c",
        [("\thandle_client(job->conn, (struct sockaddr *)&job->peer, job->len);\n\tfree(job);\n",
          "\thandle_client(job->conn, (struct sockaddr *)&job->peer, job->len);\n"),
         ("\tstruct job *job;\n",
          "\tstruct job shared, *job = &shared; /* one for every thread: &conn */\n"),
         ("\t\tif ((job = malloc(sizeof *job)) == NULL)\n\t\t\terr(1, \"malloc\");\n", ""),
         ("\t\t\tfree(job);\n\t\t\tif (accept_retry())", "\t\t\tif (accept_retry())"),
         ("\t\t\tclose(job->conn);\n\t\t\tfree(job);\n", "\t\t\tclose(job->conn);\n")],
        r"^server answers 40 clients waiting at once",
        "hands each thread a pointer to what the next accept() overwrites",
        "the &conn race: every thread reads the one struct that the next accept() overwrites"),
    Mutant(
        "06-joinable", "06-concurrency", "model_thread.c",
        [("PTHREAD_CREATE_DETACHED", "PTHREAD_CREATE_JOINABLE")],
        r"^server keeps no finished thread",
        "never detaches its threads (nor joins them)",
        "threads created joinable and never joined: each keeps its stack"),
    Mutant(
        "06-serves-in-accept-thread", "06-concurrency", "model_thread.c",
        [("\t\tif ((rc = pthread_create(&tid, &attr, run, job)) != 0) {",
          "\t\t(void)tid;\n\t\tif ((rc = (run(job), 0)) != 0) { /* no thread: served here */")],
        r"^server: a client that connects and sends nothing never delays the others",
        "serves each client before it accepts the next",
        "handle_client() called in the accepting thread: an iterative server again"),
    Mutant(
        "06-two-printfs", "06-concurrency", "handle.c",
        [("\tprintf(\"Received from %s\\n\", host);",
          "\tprintf(\"Received from \");\n\tprintf(\"%s\\n\", host);")],
        r"^server serves 40 clients at once",
        "one line is printed by one printf() call",
        "two printf() calls for one line: the lines of two threads can run together"),

    # --- 07 TLS ------------------------------------------------------------------------
    Mutant(
        "07-client-no-verify", "07-tls", "tls.c",
        [("\tSSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);\n\tif (cert != NULL",
          "\tif (cert != NULL")],
        r"^client refuses a server whose certificate another CA signed",
        "SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL)",
        "the client never sets SSL_VERIFY_PEER: a failed check is noted and ignored"),
    Mutant(
        "07-no-host-check", "07-tls", "tls.c",
        [("\tif (SSL_set1_host(ssl, name) != 1) {", "\tif (0 && SSL_set1_host(ssl, name) != 1) {")],
        r"^client checks the name",
        "SSL_set1_host(ssl, name)",
        "no SSL_set1_host(): any certificate the CA signed is accepted, for any name"),
    Mutant(
        "07-no-sni", "07-tls", "tls.c",
        [("inet_pton(AF_INET6, name, ip) != 1 &&\n\t    SSL_set_tlsext_host_name(ssl, name) != 1) {",
          "inet_pton(AF_INET6, name, ip) != 1 && 0 &&\n\t    SSL_set_tlsext_host_name(ssl, name) != 1) {")],
        r"^client names the server in SNI",
        "SSL_set_tlsext_host_name(ssl, name)",
        "no SNI: the ClientHello does not say which server the client wants"),
    Mutant(
        "07-sni-for-ip", "07-tls", "tls.c",
        [("\tif (inet_pton(AF_INET, name, ip) != 1 && inet_pton(AF_INET6, name, ip) != 1 &&\n",
          "\tif ((inet_pton(AF_INET, name, ip) != 1 || 1) &&\n")],
        r"^client names the server in SNI",
        "sends an IP address as SNI",
        "SNI for an IP address, which RFC 6066 forbids"),
    Mutant(
        "07-tls12-allowed", "07-tls", "tls.c",
        [("\tif (SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION) != 1) {",
          "\tif (0 && SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION) != 1) {")],
        r"^(server|client) refuses a TLS 1\.2-only",
        "SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION)",
        "no minimum version: both programs speak TLS 1.2 with a peer that wants it"),
    Mutant(
        "07-no-fail-if-no-cert", "07-tls", "tls.c",
        [("SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT", "SSL_VERIFY_PEER")],
        r"^server --require-client-cert refuses a client without a certificate",
        "SSL_VERIFY_FAIL_IF_NO_PEER_CERT",
        "SSL_VERIFY_PEER alone: the server checks a client certificate if one comes, and "
        "lets in a client without"),
    Mutant(
        "07-server-no-ca", "07-tls", "tls.c",
        [("\t\tif (SSL_CTX_load_verify_locations(ctx, ca, NULL) != 1) {\n\t\t\ttls_fail(ca, err, errlen);",
          "\t\tif (0) {\n\t\t\ttls_fail(ca, err, errlen);")],
        r"^server --require-client-cert serves a client",
        "SSL_CTX_load_verify_locations(ctx, ca, NULL)",
        "the server never loads --ca: no client certificate verifies"),
    Mutant(
        "07-no-shutdown", "07-tls", "tls.c",
        [("\tif ((rc = SSL_shutdown(ssl)) < 0) {", "\tif ((rc = 1) < 0) {")],
        r"^server answers the client's close_notify|^client --message sends exactly",
        "tls_close() in tls.c",
        "tls_close() never calls SSL_shutdown(): no close_notify, the peer sees a truncation"),
    Mutant(
        "07-close-notify-is-error", "07-tls", "tls.c",
        [("\t\tif (e == SSL_ERROR_ZERO_RETURN) /* close_notify: the peer's proper end */\n"
          "\t\t\treturn 0;\n", "")],
        r"^server answers the client's close_notify",
        "SSL_ERROR_ZERO_RETURN is the proper end",
        "tls_read() takes close_notify for a failure: every proper end is reported"),
    Mutant(
        "07-why-no-verify-result", "07-tls", "tls.c",
        [("\t\tif (verify != X509_V_OK) {", "\t\tif (0 && verify != X509_V_OK) {")],
        r"^client refuses an expired|^server --require-client-cert refuses a client certificate",
        "SSL_get_verify_result(ssl) != X509_V_OK",
        "tls_why() ignores the verification result: \"certificate verify failed\" without why"),
    Mutant(
        "07-why-no-timeout", "07-tls", "tls.c",
        [("\tcase SSL_ERROR_WANT_READ: /* SO_RCVTIMEO or SO_SNDTIMEO ran out (errno EAGAIN) */\n"
          "\tcase SSL_ERROR_WANT_WRITE:\n\t\tsnprintf(err, errlen, \"timed out\");\n\t\tbreak;\n", "")],
        r"^(server drops a client|client gives up on a server) that stalls",
        "SSL_ERROR_WANT_READ (or _WRITE) on a blocking socket",
        "tls_why() does not know SSL_ERROR_WANT_READ for the timeout"),
    Mutant(
        "07-why-strerror", "07-tls", "tls.c",
        [("\t\ttls_reason(err, errlen); /* the alert, or what was wrong with the bytes */",
          "\t\tsnprintf(err, errlen, \"%s\", strerror(saved));")],
        r"^server: a client that trusts another CA",
        "OpenSSL's reason (ERR_reason_error_string",
        "tls_why() says strerror(errno) for a protocol failure: \"Success\""),
    Mutant(
        "07-client-no-cert", "07-tls", "tls.c",
        [("\tif (cert != NULL && use_cert(ctx, cert, key, err, errlen) < 0)",
          "\tif (cert != NULL && 0 && use_cert(ctx, cert, key, err, errlen) < 0)")],
        r"^client --client-cert --client-key",
        "SSL_CTX_use_certificate_chain_file() and SSL_CTX_use_PrivateKey_file()",
        "the client never loads --client-cert: a server that requires one refuses it"),
    Mutant(
        "07-read-returns-one", "07-tls", "tls.c",
        [("\t\tif (SSL_read_ex(ssl, buf, n, &got) == 1)\n\t\t\treturn (ssize_t)got;",
          "\t\tif (SSL_read_ex(ssl, buf, n, &got) == 1)\n\t\t\treturn 1;")],
        r"^server prints 'Connection from', then",
        "returns how many bytes SSL_read_ex() gave",
        "tls_read() returns SSL_read_ex()'s 1, not the count: one byte of each chunk"),
    Mutant(
        "07-describe-cipher-only", "07-tls", "tls.c",
        [("\tsnprintf(buf, len, \"%s %s\", SSL_get_version(ssl),",
          "\tsnprintf(buf, len, \"%.0s%s\", SSL_get_version(ssl),")],
        r"^server completes a TLS 1\.3 handshake",
        "tls_describe() in tls.c",
        "tls_describe() names the cipher suite without the version"),
]
