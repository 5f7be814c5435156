"""Lesson 03 reference: a client for "The Sticky Packet Issue", in the seed's style.

The seed describes the problem in prose only; this program is ours, per the contract: send
each message (default "Hello" then "World") with its own send, then close.  With --udp,
each message is one datagram.
"""
import argparse
import os
import socket
import sys


def port_number(text):
    if not text.isdigit() or int(text) > 65535:
        raise argparse.ArgumentTypeError(f"'{text}' is not a port number (0-65535)")
    return int(text)


parser = argparse.ArgumentParser(description="Sticky packets: sends each message with its own send.",
                                 allow_abbrev=False)
parser.add_argument("--host", default="127.0.0.1")
parser.add_argument("--port", type=port_number, default=65433)
parser.add_argument("--udp", action="store_true")
parser.add_argument("messages", nargs="*", default=[])
# Flags may come between messages, as in C; after "--" everything is a message.  The "--"
# is split off here because parse_intermixed_args reads what follows it as flags (Python
# 3.11: "client.py --udp -- -x" is "unrecognized arguments: -x").
argv = sys.argv[1:]
after = argv[argv.index("--") + 1:] if "--" in argv else []
args = parser.parse_intermixed_args(argv[:len(argv) - len(after) - ("--" in argv)])
args.messages = args.messages + after or ["Hello", "World"]

kind = socket.SOCK_DGRAM if args.udp else socket.SOCK_STREAM
# contract: the course's dual-stack extension: --host of either family; each address
# getaddrinfo gives, in order, until one connects (what create_connection does for TCP; a
# UDP connect only fixes the peer, so the first address is the one), as the C client does.
for family, _, _, _, address in socket.getaddrinfo(args.host, args.port, socket.AF_UNSPEC, kind):
    s = None
    try:
        s = socket.socket(family, kind)
        s.connect(address)
        break
    except OSError as e:
        error = e
        if s is not None:
            s.close()
else:
    raise error
with s:
    for message in args.messages:
        s.sendall(os.fsencode(message))  # one call per message
