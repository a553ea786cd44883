import assert from "node:assert/strict";
import { nodePatternMatches, resolveOverrideSections } from "../../src/transport/ros-overrides.js";

describe("ROS parameter override sections (rcl's node-name rule)", () => {
  it("matches /**, the fully qualified name, the bare name and wildcards", () => {
    assert.ok(nodePatternMatches("/**", "/car7/syncbag"));
    assert.ok(nodePatternMatches("/syncbag", "/syncbag"));
    assert.ok(nodePatternMatches("syncbag", "/syncbag"));
    assert.ok(nodePatternMatches("/*/syncbag", "/car7/syncbag"));
    assert.ok(!nodePatternMatches("/*/syncbag", "/syncbag"));
    assert.ok(nodePatternMatches("/**/syncbag", "/syncbag"));
    assert.ok(nodePatternMatches("/**/syncbag", "/a/b/syncbag"));
    assert.ok(!nodePatternMatches("/syncbag", "/syncbag_record"));
    assert.ok(!nodePatternMatches("/syncbag", "/car7/syncbag"));
    assert.ok(nodePatternMatches("/sync*", "/syncbag_record"));
  });

  it("applies matching sections in rcl's order, later ones winning (ros2 launch's /<node> section after the params file's /**)", () => {
    const sections = [
      { name: "/**", parameters: [{ name: "output_dir", value: "bags/out" }, { name: "a", value: 1 }] },
      { name: "/syncbag", parameters: [{ name: "output_dir", value: "/data" }] },
      { name: "/other", parameters: [{ name: "a", value: 2 }] },
    ];
    const resolved = resolveOverrideSections(sections, "/syncbag");
    assert.deepEqual([...resolved.values()], [{ name: "output_dir", value: "/data" }, { name: "a", value: 1 }]);
    assert.equal(resolveOverrideSections(sections, "/car/syncbag").get("output_dir")?.value, "bags/out");
  });
});
