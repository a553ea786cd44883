/**
 * Must NOT type-check: scripts/check-rclnodejs-types.sh compiles it and expects an error on
 * `createRawSubscription`, a method rclnodejs does not have (its raw subscriptions are
 * createSubscription with `isRaw: true`). Not part of any build.
 */
import type * as Rcl from "rclnodejs";

export function probe(node: Rcl.Node): void {
  node.createRawSubscription("sensor_msgs/msg/PointCloud2", "/points", (data: Buffer) => data.length);
}
