#!/usr/bin/env python3
"""Test peer: subscribes (raw: serialized bytes, as received) to the given topics and prints
{"received": {topic: [sha1 hex, ...]}} once every topic has its expected count, or at the timeout.

    receive_raw.py --topic /a:sensor_msgs/msg/Imu:800 [--topic ...] [--timeout S] [--reliable]
"""
import argparse
import hashlib
import json
import sys
import time

import rclpy
from rclpy.qos import DurabilityPolicy, HistoryPolicy, QoSProfile, ReliabilityPolicy
from rosidl_runtime_py.utilities import get_message


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--topic', action='append', default=[])
    parser.add_argument('--timeout', type=float, default=30.0)
    args = parser.parse_args()
    rclpy.init()
    node = rclpy.create_node('receive_raw')
    expected = {}
    received = {}
    for spec in args.topic:
        topic, type_name, count = spec.rsplit(':', 2)
        expected[topic] = int(count)
        received[topic] = []
        qos = QoSProfile(history=HistoryPolicy.KEEP_ALL, reliability=ReliabilityPolicy.RELIABLE,
                         durability=DurabilityPolicy.VOLATILE)
        node.create_subscription(get_message(type_name), topic,
                                 lambda data, t=topic: received[t].append(hashlib.sha1(bytes(data)).hexdigest()),
                                 qos, raw=True)
    print('receive_raw: subscribed', file=sys.stderr, flush=True)
    deadline = time.monotonic() + args.timeout
    while time.monotonic() < deadline and any(len(received[t]) < expected[t] for t in expected):
        rclpy.spin_once(node, timeout_sec=0.1)
    print(json.dumps({'received': received}), flush=True)
    node.destroy_node()
    rclpy.try_shutdown()


if __name__ == '__main__':
    main()
