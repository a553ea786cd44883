import assert from "node:assert/strict";
import { DEFAULT_QOS, LATCHED_QOS, SENSOR_DATA_QOS } from "../../src/transport/port.js";
import { adaptToOffers, describeMismatch, incompatiblePolicies, policyName, type QosOffer } from "../../src/transport/qos-match.js";

const reliable: QosOffer = { node: "/lidar_driver", reliability: "reliable", durability: "volatile" };
const bestEffort: QosOffer = { node: "/imu_driver", reliability: "best_effort", durability: "volatile" };
const latched: QosOffer = { node: "/robot_state_publisher", reliability: "reliable", durability: "transient_local" };

describe("transport/qos-match: requests against offers", () => {
  it("names rmw's policy kinds", () => {
    assert.equal(policyName(1 << 4), "RELIABILITY");
    assert.equal(policyName(1 << 1), "DURABILITY");
    assert.equal(policyName(12345), "policy 12345");
  });

  it("finds the policies DDS refuses to match on (an offer must be at least the request)", () => {
    assert.deepEqual(incompatiblePolicies(DEFAULT_QOS, bestEffort), ["RELIABILITY"]);
    assert.deepEqual(incompatiblePolicies(SENSOR_DATA_QOS, reliable), [], "best-effort requests match reliable offers");
    assert.deepEqual(incompatiblePolicies(LATCHED_QOS, reliable), ["DURABILITY"]);
    assert.deepEqual(incompatiblePolicies({ ...LATCHED_QOS }, bestEffort), ["RELIABILITY", "DURABILITY"]);
    assert.deepEqual(incompatiblePolicies(LATCHED_QOS, latched), []);
  });

  it("adapts as rosbag2 does: reliable / transient_local only if every publisher offers it; history and depth kept", () => {
    const request = { ...LATCHED_QOS, depth: 100 };
    assert.deepEqual(adaptToOffers(request, []), request, "no publisher yet: the request as configured");
    assert.deepEqual(adaptToOffers(request, [latched]), request);
    assert.deepEqual(adaptToOffers(request, [latched, reliable]), { ...request, durability: "volatile" });
    assert.deepEqual(adaptToOffers(DEFAULT_QOS, [reliable, bestEffort]), { ...DEFAULT_QOS, reliability: "best_effort" });
    for (const offers of [[reliable], [reliable, bestEffort], [latched, bestEffort]]) {
      const adapted = adaptToOffers(request, offers);
      for (const offer of offers) assert.deepEqual(incompatiblePolicies(adapted, offer), [], "the adapted request matches every publisher");
    }
  });

  it("describes a mismatch in one line: topic, policy, request, each offending publisher's offer", () => {
    const line = describeMismatch("/imu", DEFAULT_QOS, "RELIABILITY", [reliable, bestEffort]);
    assert.equal(line, "QoS mismatch on /imu: RELIABILITY: syncbag requests reliable, /imu_driver offers best_effort; its messages are not received");
    assert.doesNotMatch(line, /\n/);
    assert.match(describeMismatch("/tf_static", LATCHED_QOS, "DURABILITY", []), /syncbag requests transient_local, a publisher \(gone from the graph now\) offers less/);
  });
});
