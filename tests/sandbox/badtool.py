"""A deliberately bad tool under test: JSON Lines in, JSON Lines out, misbehaving on cue.

The text decides: CRASH exits, SLEEP hangs, FLOOD writes endless output, ALLOC exhausts
memory, CONNECT dials 127.0.0.1:PORT (PORT from the text), GARBAGE answers non-JSON.
Also usable as a callable: ``badtool:classify``.
"""

import contextlib
import json
import os
import socket
import sys
import time


def classify(case):
    text = case.get("text", "")
    if "CRASH" in text:
        os._exit(3)
    if "SLEEP" in text:
        time.sleep(60)
    if "FLOOD" in text:
        chunk = "x" * 65536
        while True:
            sys.stdout.write(chunk)
    if "ALLOC" in text:
        hog = bytearray(4 << 30)
        hog[0] = 1
    if "CONNECT" in text:
        port = int(text.split("CONNECT")[1].split()[0])
        with contextlib.suppress(OSError):
            socket.create_connection(("127.0.0.1", port), timeout=2).close()
    if "RAISE" in text:
        raise ValueError("bad input")
    spam = any(w in text.lower() for w in ("win", "prize", "click", "otp"))
    return {"label": "scam" if spam else "ham", "score": 0.9 if spam else 0.1}


def main():
    for line in sys.stdin:
        case = json.loads(line)
        if "GARBAGE" in case.get("text", ""):
            print("this is not json", flush=True)
            continue
        out = classify(case)
        print(json.dumps({"id": case["id"], **out}), flush=True)


if __name__ == "__main__":
    main()
