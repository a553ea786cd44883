/**
 * Subscription QoS against the publishers' offers, by DDS's request/offer rules for the two
 * policies that decide whether endpoints match at all (reliability, durability), and the
 * rosbag2 recorder's adaptation (rosbag2_transport Rosbag2QoS::adapt_request_to_offers):
 * request reliable only if every publisher offers it, transient_local only if every one does.
 */
import type { QosProfile } from "./port.js";

/** A publisher's offer as the graph reports it (rmw_topic_endpoint_info_t). */
export interface QosOffer {
  /** `/ns/node` of the publishing node. */
  node: string;
  reliability: QosProfile["reliability"] | "unknown";
  durability: QosProfile["durability"] | "unknown";
}

/** rmw_qos_policy_kind_e bits, as DDS names the policy of an incompatibility. */
const POLICY_KINDS: Record<number, string> = {
  [1 << 0]: "INVALID",
  [1 << 1]: "DURABILITY",
  [1 << 2]: "DEADLINE",
  [1 << 3]: "LIVELINESS",
  [1 << 4]: "RELIABILITY",
  [1 << 5]: "HISTORY",
  [1 << 6]: "LIFESPAN",
  [1 << 7]: "DEPTH",
  [1 << 8]: "LIVELINESS_LEASE_DURATION",
  [1 << 9]: "AVOID_ROS_NAMESPACE_CONVENTIONS",
};

export function policyName(kind: number): string {
  return POLICY_KINDS[kind] ?? `policy ${kind}`;
}

/** The policies on which `offer` cannot serve `requested` (DDS RxO: offered must be at least requested). */
export function incompatiblePolicies(requested: QosProfile, offer: QosOffer): string[] {
  const out: string[] = [];
  if (requested.reliability === "reliable" && offer.reliability === "best_effort") out.push("RELIABILITY");
  if (requested.durability === "transient_local" && offer.durability === "volatile") out.push("DURABILITY");
  return out;
}

/** rosbag2's rule; history and depth stay ours (they do not affect matching). */
export function adaptToOffers(requested: QosProfile, offers: readonly QosOffer[]): QosProfile {
  if (offers.length === 0) return requested;
  return {
    ...requested,
    reliability: offers.every((o) => o.reliability === "reliable") ? "reliable" : "best_effort",
    durability: offers.every((o) => o.durability === "transient_local") ? "transient_local" : "volatile",
  };
}

/**
 * One line for an incompatibility DDS reported: the topic, the policy, what syncbag requests and
 * what each offending publisher offers, and that its messages are not received.
 */
export function describeMismatch(topic: string, requested: QosProfile, policy: string, offers: readonly QosOffer[]): string {
  const wanted = policy === "DURABILITY" ? requested.durability : policy === "RELIABILITY" ? requested.reliability : null;
  const culprits = offers.filter((o) => incompatiblePolicies(requested, o).includes(policy));
  const offered =
    culprits.length === 0
      ? "a publisher (gone from the graph now) offers less"
      : culprits.map((o) => `${o.node} offers ${policy === "DURABILITY" ? o.durability : o.reliability}`).join(", ");
  const request = wanted === null ? `syncbag's request is incompatible` : `syncbag requests ${wanted}`;
  return `QoS mismatch on ${topic}: ${policy}: ${request}, ${offered}; its messages are not received`;
}
