/**
 * Which ROS parameter overrides apply to a node, by rcl's rule. rcl parses every `--params-file`
 * and `-p` into sections keyed by node name pattern (`/**`, `/syncbag`, `/*\/syncbag`,
 * `/**\/syncbag`, `syncbag`), in first-appearance order; a node applies every section whose
 * pattern matches its fully qualified name, in that order, so later sections win (rclcpp's
 * resolve_parameter_overrides). rclnodejs 2.2 applies only `/**` and the bare node name, which
 * drops the `/syncbag:` section `ros2 launch` writes for `output_dir:=` and node parameters.
 */
export interface OverrideSection<P> {
  /** Node name pattern as rcl stored it. */
  name: string;
  parameters: readonly P[];
}

/** Whether an rcl node-name pattern matches a fully qualified node name (`/ns/name`). */
export function nodePatternMatches(pattern: string, fqn: string): boolean {
  if (pattern === "/**" || pattern === "**") return true;
  const absolute = pattern.startsWith("/") ? pattern : `/${pattern}`;
  let source = "";
  for (let i = 0; i < absolute.length; i++) {
    if (absolute.startsWith("/**", i)) {
      source += "(?:/[^/]+)*";
      i += 2;
    } else if (absolute[i] === "*") source += "[^/]*";
    else source += absolute[i]!.replace(/[.+?^${}()|[\]\\]/g, "\\$&");
  }
  return new RegExp(`^${source}$`).test(fqn);
}

/** The overrides for the node `fqn`, later matching sections winning; keyed by parameter name. */
export function resolveOverrideSections<P extends { name: string }>(sections: readonly OverrideSection<P>[], fqn: string): Map<string, P> {
  const out = new Map<string, P>();
  for (const section of sections) {
    if (!nodePatternMatches(section.name, fqn)) continue;
    for (const p of section.parameters) out.set(p.name, p);
  }
  return out;
}
