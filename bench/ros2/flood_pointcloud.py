#!/usr/bin/env python3
"""Benchmark publisher: 1 MiB sensor_msgs/PointCloud2 on two reliable topics at a total rate.

    flood_pointcloud.py --mbps 100 --seconds 20 [--topics /bench/points_a,/bench/points_b] [--depth 100]

Waits until each topic has --subscribers matched subscriptions, then offers --mbps MiB/s split
evenly over the topics (one message = 1 MiB of point data), each with a unique header stamp.
--depth is the writer's keep_last history: a reliable writer
overwrites samples no reader has acknowledged once it is full (losses on the publisher's side,
which DDS then reports to the readers as lost).
Prints "flooding" when the first message goes out, then {"offered": {topic: n}, "seconds": s, "late": n} (late: sends behind schedule by > 1 period).
"""
import argparse
import json
import sys
import time

import rclpy
from rclpy.qos import DurabilityPolicy, HistoryPolicy, QoSProfile, ReliabilityPolicy
from rclpy.serialization import serialize_message
from sensor_msgs.msg import PointCloud2, PointField

SIZE = 1 << 20


def cloud_bytes():
    msg = PointCloud2()
    msg.header.frame_id = 'bench'
    msg.height = 1
    msg.width = SIZE // 16
    msg.fields = [PointField(name=n, offset=o, datatype=PointField.FLOAT32, count=1)
                  for n, o in (('x', 0), ('y', 4), ('z', 8), ('intensity', 12))]
    msg.point_step = 16
    msg.row_step = SIZE
    msg.is_dense = True
    msg.data = bytes(range(256)) * (SIZE // 256)
    return bytearray(serialize_message(msg))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--mbps', type=float, required=True)
    parser.add_argument('--seconds', type=float, default=20.0)
    parser.add_argument('--topics', default='/bench/points_a,/bench/points_b')
    parser.add_argument('--subscribers', type=int, default=2)
    parser.add_argument('--wait-timeout', type=float, default=60.0)
    parser.add_argument('--depth', type=int, default=100)
    args = parser.parse_args()
    topics = args.topics.split(',')
    rclpy.init()
    node = rclpy.create_node('flood_pointcloud')
    qos = QoSProfile(history=HistoryPolicy.KEEP_LAST, depth=args.depth, reliability=ReliabilityPolicy.RELIABLE,
                     durability=DurabilityPolicy.VOLATILE)
    pubs = [node.create_publisher(PointCloud2, t, qos) for t in topics]
    deadline = time.monotonic() + args.wait_timeout
    while any(p.get_subscription_count() < args.subscribers for p in pubs):
        if time.monotonic() > deadline:
            print('flood_pointcloud: subscribers missing', file=sys.stderr)
            sys.exit(2)
        rclpy.spin_once(node, timeout_sec=0.05)
    time.sleep(1.0)
    data = cloud_bytes()
    period = 1.0 / args.mbps  # one 1 MiB message per period, round robin over the topics
    total = int(args.mbps * args.seconds)
    offered = {t: 0 for t in topics}
    late = 0
    print('flooding', flush=True)
    start = time.monotonic()
    for i in range(total):
        due = start + i * period
        now = time.monotonic()
        if due > now:
            time.sleep(due - now)
        elif now - due > period:
            late += 1
        stamp = time.time_ns()
        data[4:8] = (stamp // 1_000_000_000).to_bytes(4, 'little')
        data[8:12] = (stamp % 1_000_000_000).to_bytes(4, 'little')
        pubs[i % len(pubs)].publish(bytes(data))
        offered[topics[i % len(pubs)]] += 1
    elapsed = time.monotonic() - start
    for p in pubs:
        p.wait_for_all_acked(rclpy.duration.Duration(seconds=10))
    print(json.dumps({'offered': offered, 'seconds': elapsed, 'late': late}), flush=True)
    node.destroy_node()
    rclpy.try_shutdown()


if __name__ == '__main__':
    main()
