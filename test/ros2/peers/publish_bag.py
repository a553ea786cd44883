#!/usr/bin/env python3
"""Test peer: publishes a rosbag2 recording over DDS with rclpy, independently of syncbag.

    publish_bag.py BAG [--rate R] [--reliability reliable|best_effort] [--best-effort-topics a,b]
                   [--wait-subscribers TOPIC,...] [--clock] [--die-after S] [--linger S]

Every message goes out as the serialized bytes stored in the bag (rclpy publishes `bytes`
as a serialized message), paced by its log time divided by --rate. /tf_static is published
first, transient-local, and kept alive. Before publishing, the peer waits until each topic in
--wait-subscribers has a matched subscription, so no message goes out before the recorder listens.
With --clock, /clock carries the bag's log time (use_sim_time). --die-after S ends the
process abruptly (os._exit) S seconds into the run: a sensor driver crashing mid-recording.

Prints one JSON line at the end: {"published": {topic: count}, "types": {topic: type}}.
"""
import argparse
import json
import os
import sys
import time

import rclpy
import rosbag2_py
from rclpy.qos import DurabilityPolicy, HistoryPolicy, QoSProfile, ReliabilityPolicy
from rosgraph_msgs.msg import Clock
from rosidl_runtime_py.utilities import get_message


def read_bag(path):
    reader = rosbag2_py.SequentialReader()
    storage = rosbag2_py.StorageOptions(uri=path, storage_id='')
    reader.open(storage, rosbag2_py.ConverterOptions('cdr', 'cdr'))
    types = {t.name: t.type for t in reader.get_all_topics_and_types()}
    messages = []
    while reader.has_next():
        topic, data, log_time = reader.read_next()
        messages.append((topic, bytes(data), log_time))
    return types, messages


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('bag')
    parser.add_argument('--rate', type=float, default=1.0)
    parser.add_argument('--reliability', choices=['reliable', 'best_effort'], default='reliable')
    parser.add_argument('--best-effort-topics', default='')
    parser.add_argument('--wait-subscribers', default='')
    parser.add_argument('--wait-timeout', type=float, default=30.0)
    parser.add_argument('--clock', action='store_true')
    parser.add_argument('--die-after', type=float, default=None)
    parser.add_argument('--linger', type=float, default=1.0)
    parser.add_argument('--settle', type=float, default=1.0)
    parser.add_argument('--node-name', default='bag_peer')
    args = parser.parse_args()

    types, messages = read_bag(args.bag)
    rclpy.init()
    node = rclpy.create_node(args.node_name)
    best_effort = set(t for t in args.best_effort_topics.split(',') if t)
    publishers = {}
    for topic, type_name in types.items():
        latched = topic == '/tf_static'
        reliability = ReliabilityPolicy.BEST_EFFORT if (topic in best_effort or (args.reliability == 'best_effort' and not latched)) \
            else ReliabilityPolicy.RELIABLE
        qos = QoSProfile(history=HistoryPolicy.KEEP_LAST, depth=100 if not latched else 1, reliability=reliability,
                         durability=DurabilityPolicy.TRANSIENT_LOCAL if latched else DurabilityPolicy.VOLATILE)
        publishers[topic] = node.create_publisher(get_message(type_name), topic, qos)
    clock_pub = node.create_publisher(Clock, '/clock', 10) if args.clock else None

    counts = {topic: 0 for topic in types}
    # Latched state first, as a real rig's static transform publisher does.
    for topic, data, _ in messages:
        if topic == '/tf_static':
            publishers[topic].publish(data)
            counts[topic] += 1

    wait_for = [t for t in args.wait_subscribers.split(',') if t]
    deadline = time.monotonic() + args.wait_timeout
    while any(publishers[t].get_subscription_count() == 0 for t in wait_for if t in publishers):
        if time.monotonic() > deadline:
            missing = [t for t in wait_for if t in publishers and publishers[t].get_subscription_count() == 0]
            print(f'publish_bag: no subscriber on {missing} after {args.wait_timeout} s', file=sys.stderr)
            sys.exit(2)
        rclpy.spin_once(node, timeout_sec=0.05)
    # Matching is seen from the publisher's side first: a best-effort reader drops samples from a
    # writer it has not discovered yet, so give discovery time to complete both ways.
    settle_end = time.monotonic() + (args.settle if wait_for else 0)
    while time.monotonic() < settle_end:
        rclpy.spin_once(node, timeout_sec=0.05)
    print('publish_bag: subscribers matched, publishing', file=sys.stderr, flush=True)

    start_wall = time.monotonic()
    first_log = next((t for topic, _, t in messages if topic != '/tf_static'), 0)
    for topic, data, log_time in messages:
        if topic == '/tf_static':
            continue
        due = start_wall + (log_time - first_log) / 1e9 / args.rate
        now = time.monotonic()
        if due > now:
            time.sleep(due - now)
        if args.die_after is not None and time.monotonic() - start_wall >= args.die_after:
            print(json.dumps({'published': counts, 'types': types, 'died': True}), flush=True)
            os._exit(9)
        if clock_pub is not None:
            msg = Clock()
            msg.clock.sec = log_time // 1_000_000_000
            msg.clock.nanosec = log_time % 1_000_000_000
            clock_pub.publish(msg)
        publishers[topic].publish(data)
        counts[topic] += 1

    # Reliable publishers: wait until every subscriber acknowledged what was sent.
    for topic, publisher in publishers.items():
        if topic not in best_effort and args.reliability == 'reliable':
            publisher.wait_for_all_acked(rclpy.duration.Duration(seconds=5))
    time.sleep(args.linger)
    print(json.dumps({'published': counts, 'types': types}), flush=True)
    node.destroy_node()
    rclpy.try_shutdown()


if __name__ == '__main__':
    main()
