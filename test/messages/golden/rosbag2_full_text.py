#!/usr/bin/env python3
"""Regenerates rosbag2-jazzy.json: the complete ros2msg definitions rosbag2 (Jazzy) writes as MCAP
schema data, for the types the tests compare against.

An independent Python port of rosbag2_cpp LocalMessageDefinitionSource::get_full_text (MSG case,
ros2/rosbag2 rosbag2_cpp/src/rosbag2_cpp/message_definitions/local_message_definition_source.cpp):
dependencies found with rosbag2's own field-type regex, kept in a sorted set per definition,
appended depth first as "\n" + 80 '=' + "\nMSG: " + name + "\n" + the .msg file's text, each once.

Usage: rosbag2_full_text.py <share-dir> > rosbag2-jazzy.json, where <share-dir>/<pkg>/msg/<Type>.msg
are the upstream Jazzy files (ros2/common_interfaces@jazzy 5283bd97b335, ros2/rcl_interfaces@jazzy
003987ecb81a for builtin_interfaces).
"""
import json
import os
import re
import sys

MSG_FIELD_TYPE_REGEX = re.compile(r"(?:^|\n)\s*([a-zA-Z0-9_/]+)(?:\[[^\]]*\])?\s+")
PRIMITIVE_TYPES = {"bool", "byte", "char", "float32", "float64", "int8", "uint8", "int16",
                   "uint16", "int32", "uint32", "int64", "uint64", "string"}
TYPES = ["sensor_msgs/NavSatFix", "sensor_msgs/PointCloud2", "sensor_msgs/Image",
         "sensor_msgs/CompressedImage", "sensor_msgs/CameraInfo", "sensor_msgs/Imu",
         "nav_msgs/Odometry", "std_msgs/Header", "geometry_msgs/PoseStamped"]


def full_text(share, root):
    seen = set()

    def load(name):
        pkg, typ = name.split("/")
        with open(os.path.join(share, pkg, "msg", typ + ".msg"), encoding="utf-8", newline="") as f:
            text = f.read()
        deps = set()
        for match in MSG_FIELD_TYPE_REGEX.finditer(text):
            t = match.group(1)
            if t in PRIMITIVE_TYPES:
                continue
            deps.add(t if "/" in t else pkg + "/" + t)
        return text, sorted(deps)

    def append(name, depth):
        if depth <= 0:
            raise RuntimeError("max recursion depth")
        text, deps = load(name)
        out = text
        for dep in deps:
            if dep not in seen:
                seen.add(dep)
                out += "\n" + "=" * 80 + "\nMSG: " + dep + "\n" + append(dep, depth - 1)
        return out

    return append(root, 50)


if __name__ == "__main__":
    json.dump({t: full_text(sys.argv[1], t) for t in TYPES}, sys.stdout, indent=1, ensure_ascii=False)
    sys.stdout.write("\n")
