#!/usr/bin/env python3
"""Test peer: the parameters ROS itself reads from the given ROS arguments (rcl_yaml_param_parser),
as an rclpy node that declares every override it is given. Prints {name: value} as JSON.

    list_params.py NODE_NAME --ros-args --params-file FILE [-p name:=value ...]
"""
import json
import sys

import rclpy
from rclpy.node import Node


def main():
    rclpy.init(args=sys.argv)
    node = Node(sys.argv[1], automatically_declare_parameters_from_overrides=True)
    values = {name: node.get_parameter(name).value for name in node._parameters}
    print(json.dumps({k: (list(v) if isinstance(v, (list, tuple)) or hasattr(v, 'tolist') else v) for k, v in values.items()}, default=list))
    node.destroy_node()
    rclpy.try_shutdown()


if __name__ == '__main__':
    main()
