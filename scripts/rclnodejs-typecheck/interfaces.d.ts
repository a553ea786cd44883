/* eslint-disable @typescript-eslint/no-explicit-any, @typescript-eslint/no-empty-object-type -- the shape of rclnodejs's generated file */
/* Stand-in for rclnodejs's generated types/interfaces.d.ts.
 *
 * rclnodejs writes types/interfaces.d.ts at install time from the ROS packages it finds under
 * AMENT_PREFIX_PATH (rostsd_gen), and its hand-written typings reference it. Without ROS 2 it
 * does not exist, so scripts/check-rclnodejs-types.sh copies this file in its place. It has the
 * generator's shape (namespaces pkg.msg / pkg.srv, <Name>Constructor interfaces, MessagesMap,
 * ServicesMap, ActionsMap and the derived types) but only the interfaces that the typings
 * themselves reference and that syncbag uses (std_srvs/srv/Trigger, rosgraph_msgs/msg/Clock).
 * Everything else in rclnodejs's API is checked exactly as published.
 */
declare module 'rclnodejs' {
  namespace builtin_interfaces {
    namespace msg {
      export interface Time {
        sec: number;
        nanosec: number;
      }
      export interface TimeConstructor {
        new (other?: Time): Time;
      }
      export interface Duration {
        sec: number;
        nanosec: number;
      }
      export interface DurationConstructor {
        new (other?: Duration): Duration;
      }
    }
  }

  namespace rosgraph_msgs {
    namespace msg {
      export interface Clock {
        clock: builtin_interfaces.msg.Time;
      }
      export interface ClockConstructor {
        new (other?: Clock): Clock;
      }
    }
  }

  namespace std_msgs {
    namespace msg {
      export interface String {
        data: string;
      }
      export interface StringConstructor {
        new (other?: String): String;
      }
    }
  }

  namespace unique_identifier_msgs {
    namespace msg {
      export interface UUID {
        uuid: number[] | Uint8Array;
      }
      export interface UUIDConstructor {
        new (other?: UUID): UUID;
      }
    }
  }

  namespace lifecycle_msgs {
    namespace msg {
      export interface Transition {
        id: number;
        label: string;
      }
      export interface TransitionConstructor {
        readonly TRANSITION_CALLBACK_SUCCESS: number;
        readonly TRANSITION_CALLBACK_FAILURE: number;
        readonly TRANSITION_CALLBACK_ERROR: number;
        new (other?: Transition): Transition;
      }
    }
  }

  namespace action_msgs {
    namespace msg {
      export interface GoalInfo {
        goal_id: unique_identifier_msgs.msg.UUID;
        stamp: builtin_interfaces.msg.Time;
      }
      export interface GoalInfoConstructor {
        new (other?: GoalInfo): GoalInfo;
      }
    }
    namespace srv {
      export interface CancelGoal_Request {
        goal_info: action_msgs.msg.GoalInfo;
      }
      export interface CancelGoal_RequestConstructor {
        new (other?: CancelGoal_Request): CancelGoal_Request;
      }
      export interface CancelGoal_Response {
        return_code: number;
        goals_canceling: action_msgs.msg.GoalInfo[];
      }
      export interface CancelGoal_ResponseConstructor {
        readonly ERROR_NONE: number;
        readonly ERROR_REJECTED: number;
        readonly ERROR_UNKNOWN_GOAL_ID: number;
        readonly ERROR_GOAL_TERMINATED: number;
        new (other?: CancelGoal_Response): CancelGoal_Response;
      }
      export interface CancelGoalConstructor extends ROSService {
        readonly Request: CancelGoal_RequestConstructor;
        readonly Response: CancelGoal_ResponseConstructor;
      }
    }
  }

  namespace rcl_interfaces {
    namespace msg {
      export interface ParameterValue {
        type: number;
        bool_value: boolean;
        integer_value: bigint;
        double_value: number;
        string_value: string;
        byte_array_value: number[] | Uint8Array;
        bool_array_value: boolean[];
        integer_array_value: bigint[];
        double_array_value: number[] | Float64Array;
        string_array_value: string[];
      }
      export interface ParameterValueConstructor {
        new (other?: ParameterValue): ParameterValue;
      }
      export interface Parameter {
        name: string;
        value: ParameterValue;
      }
      export interface ParameterConstructor {
        new (other?: Parameter): Parameter;
      }
      export interface FloatingPointRange {
        from_value: number;
        to_value: number;
        step: number;
      }
      export interface FloatingPointRangeConstructor {
        new (other?: FloatingPointRange): FloatingPointRange;
      }
      export interface IntegerRange {
        from_value: bigint;
        to_value: bigint;
        step: bigint;
      }
      export interface IntegerRangeConstructor {
        new (other?: IntegerRange): IntegerRange;
      }
      export interface ParameterDescriptor {
        name: string;
        type: number;
        description: string;
        additional_constraints: string;
        read_only: boolean;
        dynamic_typing: boolean;
        floating_point_range: FloatingPointRange[];
        integer_range: IntegerRange[];
      }
      export interface ParameterDescriptorConstructor {
        new (other?: ParameterDescriptor): ParameterDescriptor;
      }
      export interface SetParametersResult {
        successful: boolean;
        reason: string;
      }
      export interface SetParametersResultConstructor {
        new (other?: SetParametersResult): SetParametersResult;
      }
    }
  }

  namespace std_srvs {
    namespace srv {
      export interface Trigger_Request {
        structure_needs_at_least_one_member?: number;
      }
      export interface Trigger_RequestConstructor {
        new (other?: Trigger_Request): Trigger_Request;
      }
      export interface Trigger_Response {
        success: boolean;
        message: string;
      }
      export interface Trigger_ResponseConstructor {
        new (other?: Trigger_Response): Trigger_Response;
      }
      export interface TriggerConstructor extends ROSService {
        readonly Request: Trigger_RequestConstructor;
        readonly Response: Trigger_ResponseConstructor;
      }
    }
  }

  type MessagesMap = {
    'string': 'string';
    'builtin_interfaces/msg/Time': builtin_interfaces.msg.Time;
    'builtin_interfaces/msg/Duration': builtin_interfaces.msg.Duration;
    'rosgraph_msgs/msg/Clock': rosgraph_msgs.msg.Clock;
    'std_msgs/msg/String': std_msgs.msg.String;
    'unique_identifier_msgs/msg/UUID': unique_identifier_msgs.msg.UUID;
    'lifecycle_msgs/msg/Transition': lifecycle_msgs.msg.Transition;
    'action_msgs/msg/GoalInfo': action_msgs.msg.GoalInfo;
    'rcl_interfaces/msg/ParameterValue': rcl_interfaces.msg.ParameterValue;
    'rcl_interfaces/msg/Parameter': rcl_interfaces.msg.Parameter;
    'rcl_interfaces/msg/FloatingPointRange': rcl_interfaces.msg.FloatingPointRange;
    'rcl_interfaces/msg/IntegerRange': rcl_interfaces.msg.IntegerRange;
    'rcl_interfaces/msg/ParameterDescriptor': rcl_interfaces.msg.ParameterDescriptor;
    'rcl_interfaces/msg/SetParametersResult': rcl_interfaces.msg.SetParametersResult;
  };
  type MessageTypeClassName = keyof MessagesMap;
  type Message = MessagesMap[MessageTypeClassName];
  type MessageType<T> = T extends MessageTypeClassName ? MessagesMap[T] : T extends new (...args: any[]) => infer R ? R : object;

  type MessageTypeClassConstructorMap = {
    'string': never;
    'builtin_interfaces/msg/Time': builtin_interfaces.msg.TimeConstructor;
    'builtin_interfaces/msg/Duration': builtin_interfaces.msg.DurationConstructor;
    'rosgraph_msgs/msg/Clock': rosgraph_msgs.msg.ClockConstructor;
    'std_msgs/msg/String': std_msgs.msg.StringConstructor;
    'unique_identifier_msgs/msg/UUID': unique_identifier_msgs.msg.UUIDConstructor;
    'lifecycle_msgs/msg/Transition': lifecycle_msgs.msg.TransitionConstructor;
    'action_msgs/msg/GoalInfo': action_msgs.msg.GoalInfoConstructor;
    'rcl_interfaces/msg/ParameterValue': rcl_interfaces.msg.ParameterValueConstructor;
    'rcl_interfaces/msg/Parameter': rcl_interfaces.msg.ParameterConstructor;
    'rcl_interfaces/msg/FloatingPointRange': rcl_interfaces.msg.FloatingPointRangeConstructor;
    'rcl_interfaces/msg/IntegerRange': rcl_interfaces.msg.IntegerRangeConstructor;
    'rcl_interfaces/msg/ParameterDescriptor': rcl_interfaces.msg.ParameterDescriptorConstructor;
    'rcl_interfaces/msg/SetParametersResult': rcl_interfaces.msg.SetParametersResultConstructor;
  };
  type MessageConstructorType<T> = T extends MessageTypeClassName ? MessageTypeClassConstructorMap[T] : object;

  type ServicesMap = {
    'action_msgs/srv/CancelGoal': action_msgs.srv.CancelGoalConstructor;
    'std_srvs/srv/Trigger': std_srvs.srv.TriggerConstructor;
  };
  type ServiceTypeClassName = keyof ServicesMap;
  type Service = ServicesMap[ServiceTypeClassName];
  type ServiceType<T> = T extends ServiceTypeClassName ? ServicesMap[T] : T extends { Request: any; Response: any } ? T : object;

  type ActionsMap = {};
  type ActionTypeClassName = keyof ActionsMap;
  type Action = ActionsMap[ActionTypeClassName];
  type ActionType<T> = T extends ActionTypeClassName ? ActionsMap[T] : T extends { Goal: any; Feedback: any; Result: any } ? T : object;

  type TypeClassName = MessageTypeClassName | ServiceTypeClassName | ActionTypeClassName;
  type InterfaceType<T> = T extends TypeClassName ? (MessageTypeClassConstructorMap & ServicesMap & ActionsMap)[T] : object;
}
