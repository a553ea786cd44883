"""Start syncbag on a ROS 2 graph.

    ros2 launch syncbag syncbag.launch.py
    ros2 launch syncbag syncbag.launch.py params_file:=/path/to/rig.yaml output_dir:=/data/drives
    ros2 launch syncbag syncbag.launch.py namespace:=car7 split_nodes:=true \
        remaps:="/points:=/ouster/points;/imu:=/imu/data"

Arguments (see `ros2 launch syncbag syncbag.launch.py --show-args`):
  params_file      ROS parameters for every syncbag node (`/**:` section), default: the real-rig file
  output_dir       where recordings and reports go (parameter `output_dir`)
  namespace        namespace of the syncbag nodes (relative topic names move with it)
  remaps           topic remappings for every syncbag node, `from:=to` separated by `;`
  split_nodes      false: one process (clock/aligner, recorder, suggesters together);
                   true: syncbag_align, syncbag_record and syncbag_suggest as separate nodes
  use_sim_time     follow /clock (replays, simulators)
  log_level        ROS log level of the nodes
  sigterm_timeout  seconds a node gets after SIGINT to finalise its recording before SIGTERM
"""
import os

from ament_index_python.packages import get_package_share_directory
from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument, OpaqueFunction
from launch.substitutions import LaunchConfiguration
from launch_ros.actions import Node

PACKAGE = 'syncbag'

# (executable, node name) when split; the single-process node syncbag_node runs every role.
SPLIT_NODES = [
    ('syncbag_align_node', 'syncbag_align'),
    ('syncbag_record_node', 'syncbag_record'),
    ('syncbag_suggest_node', 'syncbag_suggest'),
]


def _as_bool(text, name):
    value = text.strip().lower()
    if value in ('true', '1', 'yes', 'on'):
        return True
    if value in ('false', '0', 'no', 'off'):
        return False
    raise ValueError(f'launch argument {name}: {text!r} is not a boolean (expected true or false)')


def _parse_remaps(text):
    """`a:=b;c:=d` -> [('a', 'b'), ('c', 'd')]; refuses malformed entries, naming them."""
    remaps = []
    for entry in text.replace('\n', ';').split(';'):
        entry = entry.strip()
        if not entry:
            continue
        source, sep, target = entry.partition(':=')
        if not sep or not source.strip() or not target.strip():
            raise ValueError(f'launch argument remaps: {entry!r} is not of the form from:=to')
        remaps.append((source.strip(), target.strip()))
    return remaps


def _nodes(context):
    params_file = LaunchConfiguration('params_file').perform(context)
    if not os.path.isfile(params_file):
        raise FileNotFoundError(f'launch argument params_file: {params_file!r} does not exist')
    overrides = {
        'output_dir': LaunchConfiguration('output_dir').perform(context),
        'use_sim_time': _as_bool(LaunchConfiguration('use_sim_time').perform(context), 'use_sim_time'),
    }
    common = dict(
        package=PACKAGE,
        namespace=LaunchConfiguration('namespace').perform(context),
        parameters=[params_file, overrides],
        remappings=_parse_remaps(LaunchConfiguration('remaps').perform(context)),
        ros_arguments=['--log-level', LaunchConfiguration('log_level').perform(context)],
        output='screen',
        emulate_tty=True,
    )
    if _as_bool(LaunchConfiguration('split_nodes').perform(context), 'split_nodes'):
        return [Node(executable=executable, name=name, **common) for executable, name in SPLIT_NODES]
    return [Node(executable='syncbag_node', name='syncbag', **common)]


def generate_launch_description():
    default_params = os.path.join(get_package_share_directory(PACKAGE), 'launch', 'params', 'real_rig.yaml')
    return LaunchDescription([
        DeclareLaunchArgument('params_file', default_value=default_params,
                              description='ROS parameters file for the syncbag nodes'),
        DeclareLaunchArgument('output_dir', default_value=os.path.join(os.path.expanduser('~'), 'syncbag'),
                              description='Folder for recordings (MCAP) and reports'),
        DeclareLaunchArgument('namespace', default_value='',
                              description='Namespace of the syncbag nodes'),
        DeclareLaunchArgument('remaps', default_value='',
                              description='Topic remappings for every syncbag node: from:=to;from2:=to2'),
        DeclareLaunchArgument('split_nodes', default_value='false',
                              description='Run aligner, recorder and suggesters as separate nodes'),
        DeclareLaunchArgument('use_sim_time', default_value='false',
                              description='Use /clock as the node clock'),
        DeclareLaunchArgument('log_level', default_value='info',
                              description='ROS log level (debug, info, warn, error)'),
        # ExecuteProcess reads the `sigterm_timeout` launch configuration: how long a node has
        # after SIGINT before SIGTERM. A recorder closing a multi-GB file needs more than 5 s.
        DeclareLaunchArgument('sigterm_timeout', default_value='15',
                              description='Seconds to finalise recordings after SIGINT before SIGTERM'),
        OpaqueFunction(function=_nodes),
    ])
